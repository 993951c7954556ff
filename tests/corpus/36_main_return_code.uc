/* 36_main_return_code: whatever main returns, the exit code is 0 (only
   exit(n) sets it). */
int main()
{
    printf("main returns 42\n");
    return 42;
}
