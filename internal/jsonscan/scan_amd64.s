#include "textflag.h"

// func scan32(b []byte) (int, bool)
// The index of the first byte of b that is a quote, a backslash or below 0x20, looking 32 bytes
// at a time (AVX2) while 32 remain: (index, true), or (bytes looked at, false).
TEXT ·scan32(SB), NOSPLIT, $0-33
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	XORQ AX, AX
	MOVQ $0x22, DX
	VMOVQ DX, X1
	VPBROADCASTB X1, Y1
	MOVQ $0x5C, DX
	VMOVQ DX, X2
	VPBROADCASTB X2, Y2
	MOVQ $0x1F, DX
	VMOVQ DX, X3
	VPBROADCASTB X3, Y3

loop:
	LEAQ 32(AX), DX
	CMPQ DX, CX
	JA   none
	VMOVDQU (SI)(AX*1), Y0
	VPCMPEQB Y0, Y1, Y4
	VPCMPEQB Y0, Y2, Y5
	VPMINUB  Y0, Y3, Y6
	VPCMPEQB Y0, Y6, Y6
	VPOR     Y4, Y5, Y4
	VPOR     Y4, Y6, Y4
	VPMOVMSKB Y4, DX
	TESTL DX, DX
	JNZ  found
	ADDQ $32, AX
	JMP  loop

found:
	BSFL DX, DX
	ADDQ DX, AX
	VZEROUPPER
	MOVQ AX, ret+24(FP)
	MOVB $1, ret1+32(FP)
	RET

none:
	VZEROUPPER
	MOVQ AX, ret+24(FP)
	MOVB $0, ret1+32(FP)
	RET
