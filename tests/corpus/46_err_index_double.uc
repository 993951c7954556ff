/* 46_err_index_double: a double array, a static array and an index
   computed with ++ are bounds-checked too. */
double d[3] = {1.5, 2.5, 3.5};

void push(int v)
{
    static int stack[2];
    static int top;
    stack[top++] = v;
    printf("pushed %d (depth %d)\n", v, top);
}

main()
{
    int i = 0;
    printf("%f\n", d[2]);
    push(1);
    push(2);
    printf("%f\n", d[i]);
    push(3);
    printf("not reached\n");
}
