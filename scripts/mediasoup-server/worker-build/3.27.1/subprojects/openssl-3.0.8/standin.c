/* Intentionally empty: the real library comes from Debian (see meson.build). */
int callctl_standin_openssl;
