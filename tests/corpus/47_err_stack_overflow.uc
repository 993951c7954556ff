/* 47_err_stack_overflow: unbounded recursion stops with a stack overflow
   error (the VM's depth limit), not a crash of the process. */
int down(int n)
{
    return down(n + 1) + 1;
}

main()
{
    printf("before the recursion\n");
    printf("%d\n", down(0));
    printf("not reached\n");
}
