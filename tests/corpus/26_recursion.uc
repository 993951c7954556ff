/* 26_recursion: fib, factorial, ackermann (small), power by squaring,
   recursive sum over an array parameter, towers of Hanoi. */
long fib(long n)
{
    if (n < 2)
        return n;
    return fib(n - 1) + fib(n - 2);
}

long fact(long n)
{
    if (n <= 1)
        return 1;
    return n * fact(n - 1);
}

long ack(long m, long n)
{
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

double power(double x, long n)
{
    double h;
    if (n == 0)
        return 1;
    if (n < 0)
        return 1 / power(x, -n);
    h = power(x, n / 2);
    if (n % 2 == 0)
        return h * h;
    return h * h * x;
}

long sum_from(long a[], long i)
{
    if (i >= len(a))
        return 0;
    return a[i] + sum_from(a, i + 1);
}

long moves;

void hanoi(long n, long from, long to, long via)
{
    if (n == 0)
        return;
    hanoi(n - 1, from, via, to);
    moves++;
    if (n >= 3)
        printf("move disk %ld from %ld to %ld\n", n, from, to);
    hanoi(n - 1, via, to, from);
}

main()
{
    long i, a[100];
    for (i = 0; i <= 20; i += 5)
        printf("fib(%ld) = %ld\n", i, fib(i));
    printf("20! = %ld\n", fact(20));
    printf("21! wraps to %ld\n", fact(21));
    printf("ack(2, 3) = %ld\n", ack(2, 3));
    printf("ack(3, 3) = %ld\n", ack(3, 3));
    printf("2^10 = %f, 2^-2 = %f, 1.5^7 = %f\n", power(2, 10), power(2.0, -2), power(1.5, 7));
    for (i = 0; i < len(a); i++)
        a[i] = i + 1;
    printf("sum 1..100 = %ld\n", sum_from(a, 0));
    hanoi(4, 1, 3, 2);
    printf("moves = %ld\n", moves);
}
