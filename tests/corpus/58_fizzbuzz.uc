/* 58_fizzbuzz: the classic, with an else-if chain and %. */
main()
{
    int i;
    for (i = 1; i <= 30; i++) {
        if (i % 15 == 0)
            printf("FizzBuzz");
        else if (i % 3 == 0)
            printf("Fizz");
        else if (i % 5 == 0)
            printf("Buzz");
        else
            printf("%d", i);
        if (i < 30)
            printf(" ");
    }
    printf("\n");
}
