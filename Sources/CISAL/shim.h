#include <isa-l/igzip_lib.h>
#include <isa-l/crc.h>

// Sizes that igzip_lib.h gives as nested macros, which Swift does not import.
static inline unsigned int cisal_level1_buffer_size(void) { return ISAL_DEF_LVL1_DEFAULT; }
static inline unsigned int cisal_level2_buffer_size(void) { return ISAL_DEF_LVL2_DEFAULT; }
