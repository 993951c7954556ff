#include <stdio.h>
/* 94_static_globals: top-level static variables and procedures, const
   globals, a static local counter, and unsigned statics. */

static long counter = 100;
static unsigned long hash = 5381;
const long step = 7;
static const double ratio = 0.75;

static long next_id(void)
{
    static long id;
    return ++id;
}

static void mix(long c)
{
    hash = hash * 33 + (unsigned long) c;
}

int main(void)
{
    int i;
    for (i = 0; i < 5; i++) {
        counter += step;
        mix(next_id());
    }
    printf("%ld %lu %ld\n", counter, hash, next_id());
    printf("%.3f\n", ratio * counter);
    return 0;
}
