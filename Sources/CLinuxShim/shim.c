// The one C definition here needs _GNU_SOURCE (O_DIRECT), which must come before every system header.
#define _GNU_SOURCE
#include <fcntl.h>
#include "CLinuxShim.h"

int roster_open_direct_synced(const char *path) {
    return open(path, O_WRONLY | O_CLOEXEC | O_DIRECT | O_DSYNC);
}
