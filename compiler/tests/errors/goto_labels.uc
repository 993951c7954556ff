/* goto needs a label of its own procedure, defined once. */
int f(void)
{
again:
    goto done;
again:
    return 1;
}

int main(void)
{
    goto again;
    return f();
}
