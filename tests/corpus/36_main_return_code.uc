/* 36_main_return_code: main's return value is the program's exit code, as
   in C (SPEC 2.2; issue 12 changed this from "always 0"). */
int main()
{
    printf("main returns 42\n");
    return 42;
}
