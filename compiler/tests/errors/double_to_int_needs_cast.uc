/* double -> int is never implicit: an assignment, an argument, a return
 * value and a compound assignment each need a cast. */
int half(int n) { return n / 2.0; }

main()
{
    int i;
    double d = 2.5;
    i = d;
    half(d);
    i += d;
    i = (int) d;
}
