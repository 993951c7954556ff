/* Enumerators are int constants in the ordinary name space; a typedef
   names a type; a declaration must declare. */
int count;
enum color { RED, count, BLUE = 1.5 };
int;

int main(void)
{
    RED = 2;
    return BLUE;
}
