// trit: the scalar reference on TwoBit weights lives in reference/reference.hpp, beside and
// shared with Dense243's (the same loops over decoded trits, the same epilogue). This header
// stays for code that included it.
#pragma once

#include "trit/reference/reference.hpp"
