/* C-style forward declarations are accepted and checked, though UC needs
 * none: `()` leaves the parameters unspecified, as in K&R C. */
int add(int a, int b);
void greet(void);
int twice();

main()
{
    greet();
    printf("%d\n", add(twice(2), 1));
}

int add(int a, int b) { return a + b; }
void greet() { printf("hello\n"); }
twice(n) { return 2 * n; }
