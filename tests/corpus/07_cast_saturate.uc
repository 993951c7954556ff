/* 07_cast_saturate: (long) of a double outside the long range saturates
   (the IR's contract; in C this would be undefined). */
main()
{
    double huge = 1e30;
    printf("%ld\n", (long) huge);
    printf("%ld\n", (long) -huge);
    printf("%ld\n", (long) (1.0 / 0.0));
    printf("%ld\n", (long) (-1.0 / 0.0));
    printf("%ld\n", (long) 9.3e18);
}
