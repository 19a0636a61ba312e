// The model's elementwise and row-wise arithmetic (fastmath.c, fastmath.go).
void fm_exp(float *v, long n); // in place
void fm_gelu(float *y, const float *x, long n);
void fm_gelu_backward(float *dx, const float *dy, const float *x, long n);
void fm_softmax_rows(float *s, long rows, long t); // in place
void fm_softmax_backward_rows(float *da, const float *a, long rows, long t); // in place
void fm_layer_norm_rows(float *y, const float *x, const float *gamma, const float *beta, long rows, long w, float eps);
void fm_layer_norm_backward_rows(float *dx, float *pg, float *pb, const float *x, const float *dy, const float *gamma,
                                 long rows, long w, float eps);
