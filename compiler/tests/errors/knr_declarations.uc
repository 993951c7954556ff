f(a, b, a)
int a;
double c;
int a;
{
    return a;
}

main() { f(1, 2, 3); }
