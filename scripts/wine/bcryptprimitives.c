#include <windows.h>
#include <bcrypt.h>
/* Rust's std (1.78+) takes randomness from ProcessPrng in bcryptprimitives.dll,
   which Wine 8 does not ship; this forwards it to BCryptGenRandom. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) return FALSE;
        data += n; len -= n;
    }
    return TRUE;
}
