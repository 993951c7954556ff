// 01_hello: the smallest program, with both kinds of comments.
/* A block comment
   spanning several lines, with // inside it and a * star. */
main()
{
    printf("hello, world\n");   /* trailing block comment */
    // a line comment with /* inside it
    printf("second line\n");
    return 0;
}
