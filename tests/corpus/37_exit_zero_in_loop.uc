/* 37_exit_zero_in_loop: exit(0) inside an infinite loop ends the program
   normally; exit's argument can be computed. */
int steps;

void step()
{
    steps++;
    printf("step %d\n", steps);
    if (steps == 4)
        exit(steps - 4);
}

main()
{
    while (1)
        step();
}
