/* 28_knr: K&R definitions: parameter types declared between ) and {, an
   omitted return type meaning int, a parameter left undeclared (int), several
   names in one parameter declaration, array parameters, and a mix with
   prototype-style definitions. */
area(w, h)
int w, h;
{
    return w * h;
}

double scaled(n, k)
int n;
double k;
{
    return n * k;
}

int mixed(a, b, c)
double b;
int a;
{
    /* c is not declared: it is an int */
    return a + (int) b + c;
}

int count_pos(a)
int a[];
{
    int i, n = 0;
    for (i = 0; i < len(a); i++)
        if (a[i] > 0)
            n++;
    return n;
}

noargs()
{
    return 42;
}

double avg(int x, int y)
{
    return (x + y) / 2.0;
}

main()
{
    int v[5];
    v[0] = 3; v[1] = -1; v[2] = 4; v[3] = 0; v[4] = 5;
    printf("%d\n", area(6, 7));
    printf("%f\n", scaled(3, 0.5));
    printf("%f\n", scaled(4, 2));
    printf("%d\n", mixed(1, 2.75, 3));
    printf("%d\n", count_pos(v));
    printf("%d\n", noargs());
    printf("%f\n", avg(area(2, 2), noargs()));
}
