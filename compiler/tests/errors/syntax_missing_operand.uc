main() { int x; x = 1 +; }
