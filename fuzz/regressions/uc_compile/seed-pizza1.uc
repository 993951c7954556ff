/* pizza1.uc: the Non-Stop Pizza Preparation Program, version 1 (thin crust).
 *
 * The listing of Frieder & Segal (1991), section 6, K&R style, with its typos
 * fixed. The sleep_ms calls stand in for the paper's "device-specific" code:
 * they pace the demo so that a person can watch it, and they are where an
 * update finds the program in the middle of a pizza.
 */

main()
{
    while (1)
        do_pizza();
}

/* do_pizza drives the procedures that create the pizza.
 * Each pizza is assigned a unique pizza descriptor that
 * is passed to the lower-level procedures. Messages are
 * printed when a pizza is started and when a pizza is
 * finished. The actual parameters used to control how
 * the pizza is constructed are local to the procedures
 * that do the work.
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

/* set_oven_temp pre-heats the pizza oven to the
 * internally-specified temperature in Fahrenheit
 * degrees. When this routine returns, the oven is
 * ready to cook at that temperature.
 */
set_oven_temp(pd)
int pd;
{
    int temp = 400;
    sleep_ms(200);              /* (device-specific pre-heating code using temp) */
    printf("oven pre-heated to %d degrees ", temp);
    printf("Fahrenheit for pizza %d\n", pd);
}

/* mix_ingredients mixes the internally-specified mass
 * (in pounds) of the ingredients to form a pizza. When
 * this routine returns, the pizza has been assembled
 * and may either be baked or frozen.
 */
mix_ingredients(pd)
int pd;
{
    double dough = 0.75;        /* dough mass (lb) */
    double meat = 0.25;         /* meat mass (lb) */
    double veggie = 0.25;       /* veggie mass (lb) */
    double cheese = 0.50;       /* cheese mass (lb) */
    sleep_ms(1200);             /* (device-specific mixing and kneading code) */
    printf("pizza %d contains %.2lf lb dough, ", pd, dough);
    printf("%.2lf lb meat, ", meat);
    printf("%.2lf lb veggies, ", veggie);
    printf("%.2lf lb cheese\n", cheese);
}

/* bake_pizza will bake the pizza for the internally-
 * specified amount of time in minutes. When this routine
 * returns, the pizza has been successfully baked.
 */
bake_pizza(pd)
int pd;
{
    int time = 10;
    sleep_ms(600);              /* (device-specific baking code) */
    printf("pizza %d baked for %d minutes\n", pd, time);
}
