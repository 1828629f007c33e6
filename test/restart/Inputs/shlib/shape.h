/* shape.h - the interface of libshape.so (shape.c), a shared library built
 * with ckpt-cc -shared and used by app.c. */
extern long shape_calls;                  /* read by the program: a copy */
long shape_walk(long depth, long *acc, void (*at_bottom)(long));
long shape_table_sum(void);
long shape_tls_calls(void);
void shape_start_worker(void);
long shape_stop_worker(void);
int shape_optind(void);
char *shape_note(void);
