main()
{
    printf("pointer %p\n", 255);
    printf("long double %Lf\n", 1.5);
    printf("count %n\n", 1);
}
