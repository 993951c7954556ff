/* 48_err_stack_overflow_mutual: mutual recursion without a base case, with
   a local array and doubles in each frame, overflows as well. */
void ping(double x)
{
    int buf[16];
    buf[0] = 1;
    pong(x + buf[0]);
}

void pong(double x)
{
    ping(x * 1.0);
}

main()
{
    printf("ping pong\n");
    ping(0.0);
    printf("not reached\n");
}
