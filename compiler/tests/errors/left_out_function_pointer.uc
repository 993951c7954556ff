/* UC has no function pointers: a procedure name is not a value. */
int square(int x) { return x * x; }

int apply(int f, int x) { return f + x; }

int main(void)
{
    return apply(square, 3);
}
