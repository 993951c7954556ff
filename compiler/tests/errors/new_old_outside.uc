void sort(double a[], int n) { }

main()
{
    double b[2];
    int x = old.x;
    new.sort(b, 2);
}
