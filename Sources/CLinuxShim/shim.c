// Intentionally empty: SwiftPM needs one C source for the headers above to form a module.
#include "CLinuxShim.h"
