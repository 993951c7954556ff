do_pizza()
{
    static int pizzas = 1;
    pizzas++;
}

/* pd was renamed to pizzas in this version: without the previous version
 * ucc cannot know what type old.pd has. */
mproc do_pizza {
    pizzas = old.pd;
}

main() { do_pizza(); }
