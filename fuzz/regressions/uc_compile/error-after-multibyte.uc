main() { printf("héllo\n"); }
é