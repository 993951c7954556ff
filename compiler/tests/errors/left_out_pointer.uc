/* UC has no pointers: a pointer declaration and taking an address each
 * get one diagnostic. */
int main(void)
{
    int x = 1;
    int *p;
    p = &x;
    return 0;
}
