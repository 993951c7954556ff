/* 54_binary_search: iterative and recursive binary search over a sorted
   global array; found and missing keys. */
int data[12] = {2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377};

int search(int a[], int key)
{
    int lo = 0, hi = len(a) - 1, mid;
    while (lo <= hi) {
        mid = lo + (hi - lo) / 2;
        if (a[mid] == key)
            return mid;
        else if (a[mid] < key)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

int search_rec(int a[], int key, int lo, int hi)
{
    int mid;
    if (lo > hi)
        return -(lo + 1);       /* insertion point, encoded */
    mid = (lo + hi) / 2;
    if (a[mid] == key)
        return mid;
    if (a[mid] < key)
        return search_rec(a, key, mid + 1, hi);
    return search_rec(a, key, lo, mid - 1);
}

main()
{
    int keys[6], i;
    keys[0] = 2; keys[1] = 377; keys[2] = 34; keys[3] = 4; keys[4] = 0; keys[5] = 1000;
    for (i = 0; i < len(keys); i++)
        printf("%d: %d %d\n", keys[i], search(data, keys[i]),
               search_rec(data, keys[i], 0, len(data) - 1));
}
