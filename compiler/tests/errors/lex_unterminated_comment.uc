main()
{
    /* this comment never ends
    printf("hi\n");
}
