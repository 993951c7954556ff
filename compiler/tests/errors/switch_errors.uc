/* switch: labels must be distinct integer constants directly in the
 * switch body, and the value must be an integer. */
int main(void)
{
    int x = 2, y = 1;
    double d = 1.5;
    switch (x) {
    case 1:
        break;
    case 1:
        break;
    case y:
        break;
    default:
        break;
    default:
        break;
    }
    switch (d) {
    case 1:
        break;
    }
    if (x) {
    case 3:
        x = 0;
    }
    return 0;
}
