/* UC has no goto. */
int main(void)
{
    int i = 0;
again:
    i++;
    if (i < 3) goto again;
    return i;
}
