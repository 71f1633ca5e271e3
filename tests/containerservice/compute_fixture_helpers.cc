// The compute test fixture (tests/compute/compute_test_helpers.h: store, identity, RBAC, Key
// Vault, the ARM front end with the compute providers, a BlockStore), compiled into the
// containerservice test binary too. Every containerservice test that needs it includes
// "compute/compute_test_helpers.h"; this file is the ONE place its definitions are compiled here
// (a second copy would not link).
#include "compute/compute_test_helpers.cc"  // NOLINT(build/include)
