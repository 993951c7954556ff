#define M0 x
#define M1 M0 M0
#define M2 M1 M1
#define F(x) F(x) x
int r = F(M2);
#if (((1)) ? 2 : 3) / 0
#endif
