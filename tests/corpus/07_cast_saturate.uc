/* 07_cast_saturate: (int) of a double outside the int range saturates
   (the IR's contract; in C this would be undefined). */
main()
{
    double huge = 1e30;
    printf("%d\n", (int) huge);
    printf("%d\n", (int) -huge);
    printf("%d\n", (int) (1.0 / 0.0));
    printf("%d\n", (int) (-1.0 / 0.0));
    printf("%d\n", (int) 9.3e18);
}
