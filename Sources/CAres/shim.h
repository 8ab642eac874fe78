#include <ares.h>
#include <arpa/inet.h>
#include <sys/select.h>
#include <netdb.h>
