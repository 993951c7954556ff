/* 39_pizza: the paper's Non-Stop Pizza Preparation Program (Frieder & Segal
 * 1991, section 6) in its K&R style, with its typos fixed; here main makes
 * three pizzas instead of looping forever, and the device delays are short.
 */

main()
{
    int n = 0;
    while (n < 3) {
        do_pizza();
        n++;
    }
}

/* do_pizza drives the procedures that create the pizza.
 * Each pizza is assigned a unique pizza descriptor that
 * is passed to the lower-level procedures.
 */
do_pizza()
{
    static int pd = 1;          /* pizza descriptor */
    printf("pizza number %d preparation begins...\n", pd);
    set_oven_temp(pd);
    mix_ingredients(pd);
    bake_pizza(pd);
    printf("pizza number %d preparation complete\n\n", pd);
    pd++;
}

set_oven_temp(pd)
int pd;
{
    int temp = 400;
    sleep_ms(2);                /* (device-specific pre-heating code using temp) */
    printf("oven pre-heated to %d degrees ", temp);
    printf("Fahrenheit for pizza %d\n", pd);
}

mix_ingredients(pd)
int pd;
{
    double dough = 0.75;        /* dough mass (lb) */
    double meat = 0.25;         /* meat mass (lb) */
    double veggie = 0.25;       /* veggie mass (lb) */
    double cheese = 0.50;       /* cheese mass (lb) */
    sleep_ms(3);                /* (device-specific mixing and kneading code) */
    printf("pizza %d contains %.2lf lb dough, ", pd, dough);
    printf("%.2lf lb meat, ", meat);
    printf("%.2lf lb veggies, ", veggie);
    printf("%.2lf lb cheese\n", cheese);
}

bake_pizza(pd)
int pd;
{
    int time = 10;
    sleep_ms(1);                /* (device-specific baking code) */
    printf("pizza %d baked for %d minutes\n", pd, time);
}
