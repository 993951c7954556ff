/* pizza2.uc: the Non-Stop Pizza Preparation Program, version 2 (thick crust).
 *
 * Chicago-style: every message is prefixed "TC", the oven runs at 475 degrees,
 * the ingredients are heavier and the pizza bakes for 15 minutes. main is
 * unchanged; do_pizza, set_oven_temp, mix_ingredients and bake_pizza change.
 */

main()
{
    while (1)
        do_pizza();
}

do_pizza()
{
    static int pd = 1;          /* pizza descriptor */
    printf("TC pizza number %d preparation begins...\n", pd);
    set_oven_temp(pd);
    mix_ingredients(pd);
    bake_pizza(pd);
    printf("TC pizza number %d preparation complete\n\n", pd);
    pd++;
}

/* The mprocedure of do_pizza: runs once, when do_pizza is updated, so that
 * pizza numbers run on from where version 1 left them. */
mproc do_pizza {
    pd = old.pd;
}

set_oven_temp(pd)
int pd;
{
    int temp = 475;
    sleep_ms(200);              /* (device-specific pre-heating code using temp) */
    printf("oven pre-heated to %d degrees ", temp);
    printf("Fahrenheit for TC pizza %d\n", pd);
}

mix_ingredients(pd)
int pd;
{
    double dough = 1.25;        /* dough mass (lb) */
    double meat = 0.50;         /* meat mass (lb) */
    double veggie = 0.50;       /* veggie mass (lb) */
    double cheese = 1.00;       /* cheese mass (lb) */
    sleep_ms(1200);             /* (device-specific mixing and kneading code) */
    printf("TC pizza %d contains %.2lf lb dough, ", pd, dough);
    printf("%.2lf lb meat, ", meat);
    printf("%.2lf lb veggies, ", veggie);
    printf("%.2lf lb cheese\n", cheese);
}

bake_pizza(pd)
int pd;
{
    int time = 15;
    sleep_ms(600);              /* (device-specific baking code) */
    printf("TC pizza %d baked for %d minutes\n", pd, time);
}
