#include <stdio.h>
/* 65_fib_recursive: the classic doubly recursive Fibonacci benchmark, with
   long results and a memoized version checked against it. */
#define N 25

static long memo[100];

long fib(int n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

long fib_memo(int n)
{
    if (n < 2)
        return n;
    if (memo[n] != 0)
        return memo[n];
    return memo[n] = fib_memo(n - 1) + fib_memo(n - 2);
}

int main(void)
{
    int i;
    for (i = 0; i <= N; i += 5)
        printf("fib(%d) = %ld\n", i, fib(i));
    printf("fib_memo(90) = %ld\n", fib_memo(90));
    printf("agree: %d\n", fib(N) == fib_memo(N));
    return 0;
}
