#include "textflag.h"

// func classify(b []byte, out []uint64)
// For each whole 64-byte block i of b: bit k of out[i] is set when b[64i+k] is a quote, a
// backslash or below 0x20 (AVX2). out must hold len(b)/64 words.
TEXT ·classify(SB), NOSPLIT, $0-48
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	MOVQ out_base+24(FP), DI
	SHRQ $6, CX
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
	TESTQ CX, CX
	JZ    done
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y7
	VPCMPEQB Y0, Y1, Y4
	VPCMPEQB Y0, Y2, Y5
	VPMINUB  Y0, Y3, Y6
	VPCMPEQB Y0, Y6, Y6
	VPOR     Y4, Y5, Y4
	VPOR     Y4, Y6, Y4
	VPMOVMSKB Y4, AX
	VPCMPEQB Y7, Y1, Y8
	VPCMPEQB Y7, Y2, Y9
	VPMINUB  Y7, Y3, Y10
	VPCMPEQB Y7, Y10, Y10
	VPOR     Y8, Y9, Y8
	VPOR     Y8, Y10, Y8
	VPMOVMSKB Y8, DX
	SHLQ $32, DX
	ORQ  DX, AX
	MOVQ AX, (DI)
	ADDQ $64, SI
	ADDQ $8, DI
	DECQ CX
	JMP  loop

done:
	VZEROUPPER
	RET
