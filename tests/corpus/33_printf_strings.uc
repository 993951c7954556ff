/* 33_printf_strings: %s with string literal arguments, widths on %s,
   escape sequences in formats, formats with no conversions, several
   conversions of mixed types in one call. */
main()
{
    int i;
    printf("%s\n", "a string argument");
    printf("[%s] [%10s] [%-10s]\n", "abc", "right", "left");
    printf("%s=%d, %s=%f\n", "n", 3, "x", 0.5);
    printf("tab\there, quote \" and backslash \\\n");
    printf("no newline at first...");
    printf(" then the end\n");
    printf("");
    printf("%s", "");
    printf("%d %s %c %f %e %g %i %%\n", 1, "two", 51, 4.0, 5.0, 6.0, 7);
    for (i = 0; i < 3; i++)
        printf("%s%d%s", "<", i, ">");
    printf("\n");
}
