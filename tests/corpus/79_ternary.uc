#include <stdio.h>
/* 79_ternary: the conditional operator: nesting (right-associative),
   mixed int/double operands, only one side evaluated, as an lvalue source
   in loops. */

static int calls;

int side(int v)
{
    calls++;
    return v;
}

int sign(long x)
{
    return x > 0 ? 1 : x < 0 ? -1 : 0;
}

int main(void)
{
    int i;
    long maxv = 0;
    long vals[6] = {3, -9, 0, 14, -2, 7};
    double d;
    for (i = 0; i < 6; i++) {
        printf("%d%c", sign(vals[i]), i < 5 ? ' ' : '\n');
        maxv = vals[i] > maxv ? vals[i] : maxv;
    }
    printf("max %ld\n", maxv);
    d = 1 ? 2 : 0.5;
    printf("%f\n", d);
    printf("%f\n", 0 ? 1 : 0.5);
    i = 0 ? side(1) : side(2);
    printf("i=%d calls=%d\n", i, calls);
    i = 1 ? side(3) : side(4);
    printf("i=%d calls=%d\n", i, calls);
    printf("%d\n", (i > 2 ? i : -i) * 10);
    return 0;
}
