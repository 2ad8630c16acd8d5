// Package bigconfig is a 1,000-field configuration for the benchmarks of
// the operations packages: 100 TOML files of 10 keys each, key k9 secret.
package bigconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// WriteFiles writes the 100 documents Config reads into dir.
func WriteFiles(dir string) error {
	for f := range 100 {
		var doc strings.Builder
		for k := range 10 {
			fmt.Fprintf(&doc, "k%d = %d\n", k, f*10+k)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%02d.toml", f)), []byte(doc.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Lookup is a WithLookupEnv function that points ${BENCH_DIR} at dir.
func Lookup(dir string) func(string) (string, bool) {
	return func(k string) (string, bool) { return dir, k == "BENCH_DIR" }
}

// Config has 1,000 fields over 100 files, 10 keys each; k9 is secret.
type Config struct {
	F0000 int `live:"file=${BENCH_DIR}/f00.toml; key=k0; poll=1h"`
	F0001 int `live:"file=${BENCH_DIR}/f00.toml; key=k1; poll=1h"`
	F0002 int `live:"file=${BENCH_DIR}/f00.toml; key=k2; poll=1h"`
	F0003 int `live:"file=${BENCH_DIR}/f00.toml; key=k3; poll=1h"`
	F0004 int `live:"file=${BENCH_DIR}/f00.toml; key=k4; poll=1h"`
	F0005 int `live:"file=${BENCH_DIR}/f00.toml; key=k5; poll=1h"`
	F0006 int `live:"file=${BENCH_DIR}/f00.toml; key=k6; poll=1h"`
	F0007 int `live:"file=${BENCH_DIR}/f00.toml; key=k7; poll=1h"`
	F0008 int `live:"file=${BENCH_DIR}/f00.toml; key=k8; poll=1h"`
	F0009 int `live:"file=${BENCH_DIR}/f00.toml; key=k9; poll=1h; secret"`
	F0010 int `live:"file=${BENCH_DIR}/f01.toml; key=k0; poll=1h"`
	F0011 int `live:"file=${BENCH_DIR}/f01.toml; key=k1; poll=1h"`
	F0012 int `live:"file=${BENCH_DIR}/f01.toml; key=k2; poll=1h"`
	F0013 int `live:"file=${BENCH_DIR}/f01.toml; key=k3; poll=1h"`
	F0014 int `live:"file=${BENCH_DIR}/f01.toml; key=k4; poll=1h"`
	F0015 int `live:"file=${BENCH_DIR}/f01.toml; key=k5; poll=1h"`
	F0016 int `live:"file=${BENCH_DIR}/f01.toml; key=k6; poll=1h"`
	F0017 int `live:"file=${BENCH_DIR}/f01.toml; key=k7; poll=1h"`
	F0018 int `live:"file=${BENCH_DIR}/f01.toml; key=k8; poll=1h"`
	F0019 int `live:"file=${BENCH_DIR}/f01.toml; key=k9; poll=1h; secret"`
	F0020 int `live:"file=${BENCH_DIR}/f02.toml; key=k0; poll=1h"`
	F0021 int `live:"file=${BENCH_DIR}/f02.toml; key=k1; poll=1h"`
	F0022 int `live:"file=${BENCH_DIR}/f02.toml; key=k2; poll=1h"`
	F0023 int `live:"file=${BENCH_DIR}/f02.toml; key=k3; poll=1h"`
	F0024 int `live:"file=${BENCH_DIR}/f02.toml; key=k4; poll=1h"`
	F0025 int `live:"file=${BENCH_DIR}/f02.toml; key=k5; poll=1h"`
	F0026 int `live:"file=${BENCH_DIR}/f02.toml; key=k6; poll=1h"`
	F0027 int `live:"file=${BENCH_DIR}/f02.toml; key=k7; poll=1h"`
	F0028 int `live:"file=${BENCH_DIR}/f02.toml; key=k8; poll=1h"`
	F0029 int `live:"file=${BENCH_DIR}/f02.toml; key=k9; poll=1h; secret"`
	F0030 int `live:"file=${BENCH_DIR}/f03.toml; key=k0; poll=1h"`
	F0031 int `live:"file=${BENCH_DIR}/f03.toml; key=k1; poll=1h"`
	F0032 int `live:"file=${BENCH_DIR}/f03.toml; key=k2; poll=1h"`
	F0033 int `live:"file=${BENCH_DIR}/f03.toml; key=k3; poll=1h"`
	F0034 int `live:"file=${BENCH_DIR}/f03.toml; key=k4; poll=1h"`
	F0035 int `live:"file=${BENCH_DIR}/f03.toml; key=k5; poll=1h"`
	F0036 int `live:"file=${BENCH_DIR}/f03.toml; key=k6; poll=1h"`
	F0037 int `live:"file=${BENCH_DIR}/f03.toml; key=k7; poll=1h"`
	F0038 int `live:"file=${BENCH_DIR}/f03.toml; key=k8; poll=1h"`
	F0039 int `live:"file=${BENCH_DIR}/f03.toml; key=k9; poll=1h; secret"`
	F0040 int `live:"file=${BENCH_DIR}/f04.toml; key=k0; poll=1h"`
	F0041 int `live:"file=${BENCH_DIR}/f04.toml; key=k1; poll=1h"`
	F0042 int `live:"file=${BENCH_DIR}/f04.toml; key=k2; poll=1h"`
	F0043 int `live:"file=${BENCH_DIR}/f04.toml; key=k3; poll=1h"`
	F0044 int `live:"file=${BENCH_DIR}/f04.toml; key=k4; poll=1h"`
	F0045 int `live:"file=${BENCH_DIR}/f04.toml; key=k5; poll=1h"`
	F0046 int `live:"file=${BENCH_DIR}/f04.toml; key=k6; poll=1h"`
	F0047 int `live:"file=${BENCH_DIR}/f04.toml; key=k7; poll=1h"`
	F0048 int `live:"file=${BENCH_DIR}/f04.toml; key=k8; poll=1h"`
	F0049 int `live:"file=${BENCH_DIR}/f04.toml; key=k9; poll=1h; secret"`
	F0050 int `live:"file=${BENCH_DIR}/f05.toml; key=k0; poll=1h"`
	F0051 int `live:"file=${BENCH_DIR}/f05.toml; key=k1; poll=1h"`
	F0052 int `live:"file=${BENCH_DIR}/f05.toml; key=k2; poll=1h"`
	F0053 int `live:"file=${BENCH_DIR}/f05.toml; key=k3; poll=1h"`
	F0054 int `live:"file=${BENCH_DIR}/f05.toml; key=k4; poll=1h"`
	F0055 int `live:"file=${BENCH_DIR}/f05.toml; key=k5; poll=1h"`
	F0056 int `live:"file=${BENCH_DIR}/f05.toml; key=k6; poll=1h"`
	F0057 int `live:"file=${BENCH_DIR}/f05.toml; key=k7; poll=1h"`
	F0058 int `live:"file=${BENCH_DIR}/f05.toml; key=k8; poll=1h"`
	F0059 int `live:"file=${BENCH_DIR}/f05.toml; key=k9; poll=1h; secret"`
	F0060 int `live:"file=${BENCH_DIR}/f06.toml; key=k0; poll=1h"`
	F0061 int `live:"file=${BENCH_DIR}/f06.toml; key=k1; poll=1h"`
	F0062 int `live:"file=${BENCH_DIR}/f06.toml; key=k2; poll=1h"`
	F0063 int `live:"file=${BENCH_DIR}/f06.toml; key=k3; poll=1h"`
	F0064 int `live:"file=${BENCH_DIR}/f06.toml; key=k4; poll=1h"`
	F0065 int `live:"file=${BENCH_DIR}/f06.toml; key=k5; poll=1h"`
	F0066 int `live:"file=${BENCH_DIR}/f06.toml; key=k6; poll=1h"`
	F0067 int `live:"file=${BENCH_DIR}/f06.toml; key=k7; poll=1h"`
	F0068 int `live:"file=${BENCH_DIR}/f06.toml; key=k8; poll=1h"`
	F0069 int `live:"file=${BENCH_DIR}/f06.toml; key=k9; poll=1h; secret"`
	F0070 int `live:"file=${BENCH_DIR}/f07.toml; key=k0; poll=1h"`
	F0071 int `live:"file=${BENCH_DIR}/f07.toml; key=k1; poll=1h"`
	F0072 int `live:"file=${BENCH_DIR}/f07.toml; key=k2; poll=1h"`
	F0073 int `live:"file=${BENCH_DIR}/f07.toml; key=k3; poll=1h"`
	F0074 int `live:"file=${BENCH_DIR}/f07.toml; key=k4; poll=1h"`
	F0075 int `live:"file=${BENCH_DIR}/f07.toml; key=k5; poll=1h"`
	F0076 int `live:"file=${BENCH_DIR}/f07.toml; key=k6; poll=1h"`
	F0077 int `live:"file=${BENCH_DIR}/f07.toml; key=k7; poll=1h"`
	F0078 int `live:"file=${BENCH_DIR}/f07.toml; key=k8; poll=1h"`
	F0079 int `live:"file=${BENCH_DIR}/f07.toml; key=k9; poll=1h; secret"`
	F0080 int `live:"file=${BENCH_DIR}/f08.toml; key=k0; poll=1h"`
	F0081 int `live:"file=${BENCH_DIR}/f08.toml; key=k1; poll=1h"`
	F0082 int `live:"file=${BENCH_DIR}/f08.toml; key=k2; poll=1h"`
	F0083 int `live:"file=${BENCH_DIR}/f08.toml; key=k3; poll=1h"`
	F0084 int `live:"file=${BENCH_DIR}/f08.toml; key=k4; poll=1h"`
	F0085 int `live:"file=${BENCH_DIR}/f08.toml; key=k5; poll=1h"`
	F0086 int `live:"file=${BENCH_DIR}/f08.toml; key=k6; poll=1h"`
	F0087 int `live:"file=${BENCH_DIR}/f08.toml; key=k7; poll=1h"`
	F0088 int `live:"file=${BENCH_DIR}/f08.toml; key=k8; poll=1h"`
	F0089 int `live:"file=${BENCH_DIR}/f08.toml; key=k9; poll=1h; secret"`
	F0090 int `live:"file=${BENCH_DIR}/f09.toml; key=k0; poll=1h"`
	F0091 int `live:"file=${BENCH_DIR}/f09.toml; key=k1; poll=1h"`
	F0092 int `live:"file=${BENCH_DIR}/f09.toml; key=k2; poll=1h"`
	F0093 int `live:"file=${BENCH_DIR}/f09.toml; key=k3; poll=1h"`
	F0094 int `live:"file=${BENCH_DIR}/f09.toml; key=k4; poll=1h"`
	F0095 int `live:"file=${BENCH_DIR}/f09.toml; key=k5; poll=1h"`
	F0096 int `live:"file=${BENCH_DIR}/f09.toml; key=k6; poll=1h"`
	F0097 int `live:"file=${BENCH_DIR}/f09.toml; key=k7; poll=1h"`
	F0098 int `live:"file=${BENCH_DIR}/f09.toml; key=k8; poll=1h"`
	F0099 int `live:"file=${BENCH_DIR}/f09.toml; key=k9; poll=1h; secret"`
	F0100 int `live:"file=${BENCH_DIR}/f10.toml; key=k0; poll=1h"`
	F0101 int `live:"file=${BENCH_DIR}/f10.toml; key=k1; poll=1h"`
	F0102 int `live:"file=${BENCH_DIR}/f10.toml; key=k2; poll=1h"`
	F0103 int `live:"file=${BENCH_DIR}/f10.toml; key=k3; poll=1h"`
	F0104 int `live:"file=${BENCH_DIR}/f10.toml; key=k4; poll=1h"`
	F0105 int `live:"file=${BENCH_DIR}/f10.toml; key=k5; poll=1h"`
	F0106 int `live:"file=${BENCH_DIR}/f10.toml; key=k6; poll=1h"`
	F0107 int `live:"file=${BENCH_DIR}/f10.toml; key=k7; poll=1h"`
	F0108 int `live:"file=${BENCH_DIR}/f10.toml; key=k8; poll=1h"`
	F0109 int `live:"file=${BENCH_DIR}/f10.toml; key=k9; poll=1h; secret"`
	F0110 int `live:"file=${BENCH_DIR}/f11.toml; key=k0; poll=1h"`
	F0111 int `live:"file=${BENCH_DIR}/f11.toml; key=k1; poll=1h"`
	F0112 int `live:"file=${BENCH_DIR}/f11.toml; key=k2; poll=1h"`
	F0113 int `live:"file=${BENCH_DIR}/f11.toml; key=k3; poll=1h"`
	F0114 int `live:"file=${BENCH_DIR}/f11.toml; key=k4; poll=1h"`
	F0115 int `live:"file=${BENCH_DIR}/f11.toml; key=k5; poll=1h"`
	F0116 int `live:"file=${BENCH_DIR}/f11.toml; key=k6; poll=1h"`
	F0117 int `live:"file=${BENCH_DIR}/f11.toml; key=k7; poll=1h"`
	F0118 int `live:"file=${BENCH_DIR}/f11.toml; key=k8; poll=1h"`
	F0119 int `live:"file=${BENCH_DIR}/f11.toml; key=k9; poll=1h; secret"`
	F0120 int `live:"file=${BENCH_DIR}/f12.toml; key=k0; poll=1h"`
	F0121 int `live:"file=${BENCH_DIR}/f12.toml; key=k1; poll=1h"`
	F0122 int `live:"file=${BENCH_DIR}/f12.toml; key=k2; poll=1h"`
	F0123 int `live:"file=${BENCH_DIR}/f12.toml; key=k3; poll=1h"`
	F0124 int `live:"file=${BENCH_DIR}/f12.toml; key=k4; poll=1h"`
	F0125 int `live:"file=${BENCH_DIR}/f12.toml; key=k5; poll=1h"`
	F0126 int `live:"file=${BENCH_DIR}/f12.toml; key=k6; poll=1h"`
	F0127 int `live:"file=${BENCH_DIR}/f12.toml; key=k7; poll=1h"`
	F0128 int `live:"file=${BENCH_DIR}/f12.toml; key=k8; poll=1h"`
	F0129 int `live:"file=${BENCH_DIR}/f12.toml; key=k9; poll=1h; secret"`
	F0130 int `live:"file=${BENCH_DIR}/f13.toml; key=k0; poll=1h"`
	F0131 int `live:"file=${BENCH_DIR}/f13.toml; key=k1; poll=1h"`
	F0132 int `live:"file=${BENCH_DIR}/f13.toml; key=k2; poll=1h"`
	F0133 int `live:"file=${BENCH_DIR}/f13.toml; key=k3; poll=1h"`
	F0134 int `live:"file=${BENCH_DIR}/f13.toml; key=k4; poll=1h"`
	F0135 int `live:"file=${BENCH_DIR}/f13.toml; key=k5; poll=1h"`
	F0136 int `live:"file=${BENCH_DIR}/f13.toml; key=k6; poll=1h"`
	F0137 int `live:"file=${BENCH_DIR}/f13.toml; key=k7; poll=1h"`
	F0138 int `live:"file=${BENCH_DIR}/f13.toml; key=k8; poll=1h"`
	F0139 int `live:"file=${BENCH_DIR}/f13.toml; key=k9; poll=1h; secret"`
	F0140 int `live:"file=${BENCH_DIR}/f14.toml; key=k0; poll=1h"`
	F0141 int `live:"file=${BENCH_DIR}/f14.toml; key=k1; poll=1h"`
	F0142 int `live:"file=${BENCH_DIR}/f14.toml; key=k2; poll=1h"`
	F0143 int `live:"file=${BENCH_DIR}/f14.toml; key=k3; poll=1h"`
	F0144 int `live:"file=${BENCH_DIR}/f14.toml; key=k4; poll=1h"`
	F0145 int `live:"file=${BENCH_DIR}/f14.toml; key=k5; poll=1h"`
	F0146 int `live:"file=${BENCH_DIR}/f14.toml; key=k6; poll=1h"`
	F0147 int `live:"file=${BENCH_DIR}/f14.toml; key=k7; poll=1h"`
	F0148 int `live:"file=${BENCH_DIR}/f14.toml; key=k8; poll=1h"`
	F0149 int `live:"file=${BENCH_DIR}/f14.toml; key=k9; poll=1h; secret"`
	F0150 int `live:"file=${BENCH_DIR}/f15.toml; key=k0; poll=1h"`
	F0151 int `live:"file=${BENCH_DIR}/f15.toml; key=k1; poll=1h"`
	F0152 int `live:"file=${BENCH_DIR}/f15.toml; key=k2; poll=1h"`
	F0153 int `live:"file=${BENCH_DIR}/f15.toml; key=k3; poll=1h"`
	F0154 int `live:"file=${BENCH_DIR}/f15.toml; key=k4; poll=1h"`
	F0155 int `live:"file=${BENCH_DIR}/f15.toml; key=k5; poll=1h"`
	F0156 int `live:"file=${BENCH_DIR}/f15.toml; key=k6; poll=1h"`
	F0157 int `live:"file=${BENCH_DIR}/f15.toml; key=k7; poll=1h"`
	F0158 int `live:"file=${BENCH_DIR}/f15.toml; key=k8; poll=1h"`
	F0159 int `live:"file=${BENCH_DIR}/f15.toml; key=k9; poll=1h; secret"`
	F0160 int `live:"file=${BENCH_DIR}/f16.toml; key=k0; poll=1h"`
	F0161 int `live:"file=${BENCH_DIR}/f16.toml; key=k1; poll=1h"`
	F0162 int `live:"file=${BENCH_DIR}/f16.toml; key=k2; poll=1h"`
	F0163 int `live:"file=${BENCH_DIR}/f16.toml; key=k3; poll=1h"`
	F0164 int `live:"file=${BENCH_DIR}/f16.toml; key=k4; poll=1h"`
	F0165 int `live:"file=${BENCH_DIR}/f16.toml; key=k5; poll=1h"`
	F0166 int `live:"file=${BENCH_DIR}/f16.toml; key=k6; poll=1h"`
	F0167 int `live:"file=${BENCH_DIR}/f16.toml; key=k7; poll=1h"`
	F0168 int `live:"file=${BENCH_DIR}/f16.toml; key=k8; poll=1h"`
	F0169 int `live:"file=${BENCH_DIR}/f16.toml; key=k9; poll=1h; secret"`
	F0170 int `live:"file=${BENCH_DIR}/f17.toml; key=k0; poll=1h"`
	F0171 int `live:"file=${BENCH_DIR}/f17.toml; key=k1; poll=1h"`
	F0172 int `live:"file=${BENCH_DIR}/f17.toml; key=k2; poll=1h"`
	F0173 int `live:"file=${BENCH_DIR}/f17.toml; key=k3; poll=1h"`
	F0174 int `live:"file=${BENCH_DIR}/f17.toml; key=k4; poll=1h"`
	F0175 int `live:"file=${BENCH_DIR}/f17.toml; key=k5; poll=1h"`
	F0176 int `live:"file=${BENCH_DIR}/f17.toml; key=k6; poll=1h"`
	F0177 int `live:"file=${BENCH_DIR}/f17.toml; key=k7; poll=1h"`
	F0178 int `live:"file=${BENCH_DIR}/f17.toml; key=k8; poll=1h"`
	F0179 int `live:"file=${BENCH_DIR}/f17.toml; key=k9; poll=1h; secret"`
	F0180 int `live:"file=${BENCH_DIR}/f18.toml; key=k0; poll=1h"`
	F0181 int `live:"file=${BENCH_DIR}/f18.toml; key=k1; poll=1h"`
	F0182 int `live:"file=${BENCH_DIR}/f18.toml; key=k2; poll=1h"`
	F0183 int `live:"file=${BENCH_DIR}/f18.toml; key=k3; poll=1h"`
	F0184 int `live:"file=${BENCH_DIR}/f18.toml; key=k4; poll=1h"`
	F0185 int `live:"file=${BENCH_DIR}/f18.toml; key=k5; poll=1h"`
	F0186 int `live:"file=${BENCH_DIR}/f18.toml; key=k6; poll=1h"`
	F0187 int `live:"file=${BENCH_DIR}/f18.toml; key=k7; poll=1h"`
	F0188 int `live:"file=${BENCH_DIR}/f18.toml; key=k8; poll=1h"`
	F0189 int `live:"file=${BENCH_DIR}/f18.toml; key=k9; poll=1h; secret"`
	F0190 int `live:"file=${BENCH_DIR}/f19.toml; key=k0; poll=1h"`
	F0191 int `live:"file=${BENCH_DIR}/f19.toml; key=k1; poll=1h"`
	F0192 int `live:"file=${BENCH_DIR}/f19.toml; key=k2; poll=1h"`
	F0193 int `live:"file=${BENCH_DIR}/f19.toml; key=k3; poll=1h"`
	F0194 int `live:"file=${BENCH_DIR}/f19.toml; key=k4; poll=1h"`
	F0195 int `live:"file=${BENCH_DIR}/f19.toml; key=k5; poll=1h"`
	F0196 int `live:"file=${BENCH_DIR}/f19.toml; key=k6; poll=1h"`
	F0197 int `live:"file=${BENCH_DIR}/f19.toml; key=k7; poll=1h"`
	F0198 int `live:"file=${BENCH_DIR}/f19.toml; key=k8; poll=1h"`
	F0199 int `live:"file=${BENCH_DIR}/f19.toml; key=k9; poll=1h; secret"`
	F0200 int `live:"file=${BENCH_DIR}/f20.toml; key=k0; poll=1h"`
	F0201 int `live:"file=${BENCH_DIR}/f20.toml; key=k1; poll=1h"`
	F0202 int `live:"file=${BENCH_DIR}/f20.toml; key=k2; poll=1h"`
	F0203 int `live:"file=${BENCH_DIR}/f20.toml; key=k3; poll=1h"`
	F0204 int `live:"file=${BENCH_DIR}/f20.toml; key=k4; poll=1h"`
	F0205 int `live:"file=${BENCH_DIR}/f20.toml; key=k5; poll=1h"`
	F0206 int `live:"file=${BENCH_DIR}/f20.toml; key=k6; poll=1h"`
	F0207 int `live:"file=${BENCH_DIR}/f20.toml; key=k7; poll=1h"`
	F0208 int `live:"file=${BENCH_DIR}/f20.toml; key=k8; poll=1h"`
	F0209 int `live:"file=${BENCH_DIR}/f20.toml; key=k9; poll=1h; secret"`
	F0210 int `live:"file=${BENCH_DIR}/f21.toml; key=k0; poll=1h"`
	F0211 int `live:"file=${BENCH_DIR}/f21.toml; key=k1; poll=1h"`
	F0212 int `live:"file=${BENCH_DIR}/f21.toml; key=k2; poll=1h"`
	F0213 int `live:"file=${BENCH_DIR}/f21.toml; key=k3; poll=1h"`
	F0214 int `live:"file=${BENCH_DIR}/f21.toml; key=k4; poll=1h"`
	F0215 int `live:"file=${BENCH_DIR}/f21.toml; key=k5; poll=1h"`
	F0216 int `live:"file=${BENCH_DIR}/f21.toml; key=k6; poll=1h"`
	F0217 int `live:"file=${BENCH_DIR}/f21.toml; key=k7; poll=1h"`
	F0218 int `live:"file=${BENCH_DIR}/f21.toml; key=k8; poll=1h"`
	F0219 int `live:"file=${BENCH_DIR}/f21.toml; key=k9; poll=1h; secret"`
	F0220 int `live:"file=${BENCH_DIR}/f22.toml; key=k0; poll=1h"`
	F0221 int `live:"file=${BENCH_DIR}/f22.toml; key=k1; poll=1h"`
	F0222 int `live:"file=${BENCH_DIR}/f22.toml; key=k2; poll=1h"`
	F0223 int `live:"file=${BENCH_DIR}/f22.toml; key=k3; poll=1h"`
	F0224 int `live:"file=${BENCH_DIR}/f22.toml; key=k4; poll=1h"`
	F0225 int `live:"file=${BENCH_DIR}/f22.toml; key=k5; poll=1h"`
	F0226 int `live:"file=${BENCH_DIR}/f22.toml; key=k6; poll=1h"`
	F0227 int `live:"file=${BENCH_DIR}/f22.toml; key=k7; poll=1h"`
	F0228 int `live:"file=${BENCH_DIR}/f22.toml; key=k8; poll=1h"`
	F0229 int `live:"file=${BENCH_DIR}/f22.toml; key=k9; poll=1h; secret"`
	F0230 int `live:"file=${BENCH_DIR}/f23.toml; key=k0; poll=1h"`
	F0231 int `live:"file=${BENCH_DIR}/f23.toml; key=k1; poll=1h"`
	F0232 int `live:"file=${BENCH_DIR}/f23.toml; key=k2; poll=1h"`
	F0233 int `live:"file=${BENCH_DIR}/f23.toml; key=k3; poll=1h"`
	F0234 int `live:"file=${BENCH_DIR}/f23.toml; key=k4; poll=1h"`
	F0235 int `live:"file=${BENCH_DIR}/f23.toml; key=k5; poll=1h"`
	F0236 int `live:"file=${BENCH_DIR}/f23.toml; key=k6; poll=1h"`
	F0237 int `live:"file=${BENCH_DIR}/f23.toml; key=k7; poll=1h"`
	F0238 int `live:"file=${BENCH_DIR}/f23.toml; key=k8; poll=1h"`
	F0239 int `live:"file=${BENCH_DIR}/f23.toml; key=k9; poll=1h; secret"`
	F0240 int `live:"file=${BENCH_DIR}/f24.toml; key=k0; poll=1h"`
	F0241 int `live:"file=${BENCH_DIR}/f24.toml; key=k1; poll=1h"`
	F0242 int `live:"file=${BENCH_DIR}/f24.toml; key=k2; poll=1h"`
	F0243 int `live:"file=${BENCH_DIR}/f24.toml; key=k3; poll=1h"`
	F0244 int `live:"file=${BENCH_DIR}/f24.toml; key=k4; poll=1h"`
	F0245 int `live:"file=${BENCH_DIR}/f24.toml; key=k5; poll=1h"`
	F0246 int `live:"file=${BENCH_DIR}/f24.toml; key=k6; poll=1h"`
	F0247 int `live:"file=${BENCH_DIR}/f24.toml; key=k7; poll=1h"`
	F0248 int `live:"file=${BENCH_DIR}/f24.toml; key=k8; poll=1h"`
	F0249 int `live:"file=${BENCH_DIR}/f24.toml; key=k9; poll=1h; secret"`
	F0250 int `live:"file=${BENCH_DIR}/f25.toml; key=k0; poll=1h"`
	F0251 int `live:"file=${BENCH_DIR}/f25.toml; key=k1; poll=1h"`
	F0252 int `live:"file=${BENCH_DIR}/f25.toml; key=k2; poll=1h"`
	F0253 int `live:"file=${BENCH_DIR}/f25.toml; key=k3; poll=1h"`
	F0254 int `live:"file=${BENCH_DIR}/f25.toml; key=k4; poll=1h"`
	F0255 int `live:"file=${BENCH_DIR}/f25.toml; key=k5; poll=1h"`
	F0256 int `live:"file=${BENCH_DIR}/f25.toml; key=k6; poll=1h"`
	F0257 int `live:"file=${BENCH_DIR}/f25.toml; key=k7; poll=1h"`
	F0258 int `live:"file=${BENCH_DIR}/f25.toml; key=k8; poll=1h"`
	F0259 int `live:"file=${BENCH_DIR}/f25.toml; key=k9; poll=1h; secret"`
	F0260 int `live:"file=${BENCH_DIR}/f26.toml; key=k0; poll=1h"`
	F0261 int `live:"file=${BENCH_DIR}/f26.toml; key=k1; poll=1h"`
	F0262 int `live:"file=${BENCH_DIR}/f26.toml; key=k2; poll=1h"`
	F0263 int `live:"file=${BENCH_DIR}/f26.toml; key=k3; poll=1h"`
	F0264 int `live:"file=${BENCH_DIR}/f26.toml; key=k4; poll=1h"`
	F0265 int `live:"file=${BENCH_DIR}/f26.toml; key=k5; poll=1h"`
	F0266 int `live:"file=${BENCH_DIR}/f26.toml; key=k6; poll=1h"`
	F0267 int `live:"file=${BENCH_DIR}/f26.toml; key=k7; poll=1h"`
	F0268 int `live:"file=${BENCH_DIR}/f26.toml; key=k8; poll=1h"`
	F0269 int `live:"file=${BENCH_DIR}/f26.toml; key=k9; poll=1h; secret"`
	F0270 int `live:"file=${BENCH_DIR}/f27.toml; key=k0; poll=1h"`
	F0271 int `live:"file=${BENCH_DIR}/f27.toml; key=k1; poll=1h"`
	F0272 int `live:"file=${BENCH_DIR}/f27.toml; key=k2; poll=1h"`
	F0273 int `live:"file=${BENCH_DIR}/f27.toml; key=k3; poll=1h"`
	F0274 int `live:"file=${BENCH_DIR}/f27.toml; key=k4; poll=1h"`
	F0275 int `live:"file=${BENCH_DIR}/f27.toml; key=k5; poll=1h"`
	F0276 int `live:"file=${BENCH_DIR}/f27.toml; key=k6; poll=1h"`
	F0277 int `live:"file=${BENCH_DIR}/f27.toml; key=k7; poll=1h"`
	F0278 int `live:"file=${BENCH_DIR}/f27.toml; key=k8; poll=1h"`
	F0279 int `live:"file=${BENCH_DIR}/f27.toml; key=k9; poll=1h; secret"`
	F0280 int `live:"file=${BENCH_DIR}/f28.toml; key=k0; poll=1h"`
	F0281 int `live:"file=${BENCH_DIR}/f28.toml; key=k1; poll=1h"`
	F0282 int `live:"file=${BENCH_DIR}/f28.toml; key=k2; poll=1h"`
	F0283 int `live:"file=${BENCH_DIR}/f28.toml; key=k3; poll=1h"`
	F0284 int `live:"file=${BENCH_DIR}/f28.toml; key=k4; poll=1h"`
	F0285 int `live:"file=${BENCH_DIR}/f28.toml; key=k5; poll=1h"`
	F0286 int `live:"file=${BENCH_DIR}/f28.toml; key=k6; poll=1h"`
	F0287 int `live:"file=${BENCH_DIR}/f28.toml; key=k7; poll=1h"`
	F0288 int `live:"file=${BENCH_DIR}/f28.toml; key=k8; poll=1h"`
	F0289 int `live:"file=${BENCH_DIR}/f28.toml; key=k9; poll=1h; secret"`
	F0290 int `live:"file=${BENCH_DIR}/f29.toml; key=k0; poll=1h"`
	F0291 int `live:"file=${BENCH_DIR}/f29.toml; key=k1; poll=1h"`
	F0292 int `live:"file=${BENCH_DIR}/f29.toml; key=k2; poll=1h"`
	F0293 int `live:"file=${BENCH_DIR}/f29.toml; key=k3; poll=1h"`
	F0294 int `live:"file=${BENCH_DIR}/f29.toml; key=k4; poll=1h"`
	F0295 int `live:"file=${BENCH_DIR}/f29.toml; key=k5; poll=1h"`
	F0296 int `live:"file=${BENCH_DIR}/f29.toml; key=k6; poll=1h"`
	F0297 int `live:"file=${BENCH_DIR}/f29.toml; key=k7; poll=1h"`
	F0298 int `live:"file=${BENCH_DIR}/f29.toml; key=k8; poll=1h"`
	F0299 int `live:"file=${BENCH_DIR}/f29.toml; key=k9; poll=1h; secret"`
	F0300 int `live:"file=${BENCH_DIR}/f30.toml; key=k0; poll=1h"`
	F0301 int `live:"file=${BENCH_DIR}/f30.toml; key=k1; poll=1h"`
	F0302 int `live:"file=${BENCH_DIR}/f30.toml; key=k2; poll=1h"`
	F0303 int `live:"file=${BENCH_DIR}/f30.toml; key=k3; poll=1h"`
	F0304 int `live:"file=${BENCH_DIR}/f30.toml; key=k4; poll=1h"`
	F0305 int `live:"file=${BENCH_DIR}/f30.toml; key=k5; poll=1h"`
	F0306 int `live:"file=${BENCH_DIR}/f30.toml; key=k6; poll=1h"`
	F0307 int `live:"file=${BENCH_DIR}/f30.toml; key=k7; poll=1h"`
	F0308 int `live:"file=${BENCH_DIR}/f30.toml; key=k8; poll=1h"`
	F0309 int `live:"file=${BENCH_DIR}/f30.toml; key=k9; poll=1h; secret"`
	F0310 int `live:"file=${BENCH_DIR}/f31.toml; key=k0; poll=1h"`
	F0311 int `live:"file=${BENCH_DIR}/f31.toml; key=k1; poll=1h"`
	F0312 int `live:"file=${BENCH_DIR}/f31.toml; key=k2; poll=1h"`
	F0313 int `live:"file=${BENCH_DIR}/f31.toml; key=k3; poll=1h"`
	F0314 int `live:"file=${BENCH_DIR}/f31.toml; key=k4; poll=1h"`
	F0315 int `live:"file=${BENCH_DIR}/f31.toml; key=k5; poll=1h"`
	F0316 int `live:"file=${BENCH_DIR}/f31.toml; key=k6; poll=1h"`
	F0317 int `live:"file=${BENCH_DIR}/f31.toml; key=k7; poll=1h"`
	F0318 int `live:"file=${BENCH_DIR}/f31.toml; key=k8; poll=1h"`
	F0319 int `live:"file=${BENCH_DIR}/f31.toml; key=k9; poll=1h; secret"`
	F0320 int `live:"file=${BENCH_DIR}/f32.toml; key=k0; poll=1h"`
	F0321 int `live:"file=${BENCH_DIR}/f32.toml; key=k1; poll=1h"`
	F0322 int `live:"file=${BENCH_DIR}/f32.toml; key=k2; poll=1h"`
	F0323 int `live:"file=${BENCH_DIR}/f32.toml; key=k3; poll=1h"`
	F0324 int `live:"file=${BENCH_DIR}/f32.toml; key=k4; poll=1h"`
	F0325 int `live:"file=${BENCH_DIR}/f32.toml; key=k5; poll=1h"`
	F0326 int `live:"file=${BENCH_DIR}/f32.toml; key=k6; poll=1h"`
	F0327 int `live:"file=${BENCH_DIR}/f32.toml; key=k7; poll=1h"`
	F0328 int `live:"file=${BENCH_DIR}/f32.toml; key=k8; poll=1h"`
	F0329 int `live:"file=${BENCH_DIR}/f32.toml; key=k9; poll=1h; secret"`
	F0330 int `live:"file=${BENCH_DIR}/f33.toml; key=k0; poll=1h"`
	F0331 int `live:"file=${BENCH_DIR}/f33.toml; key=k1; poll=1h"`
	F0332 int `live:"file=${BENCH_DIR}/f33.toml; key=k2; poll=1h"`
	F0333 int `live:"file=${BENCH_DIR}/f33.toml; key=k3; poll=1h"`
	F0334 int `live:"file=${BENCH_DIR}/f33.toml; key=k4; poll=1h"`
	F0335 int `live:"file=${BENCH_DIR}/f33.toml; key=k5; poll=1h"`
	F0336 int `live:"file=${BENCH_DIR}/f33.toml; key=k6; poll=1h"`
	F0337 int `live:"file=${BENCH_DIR}/f33.toml; key=k7; poll=1h"`
	F0338 int `live:"file=${BENCH_DIR}/f33.toml; key=k8; poll=1h"`
	F0339 int `live:"file=${BENCH_DIR}/f33.toml; key=k9; poll=1h; secret"`
	F0340 int `live:"file=${BENCH_DIR}/f34.toml; key=k0; poll=1h"`
	F0341 int `live:"file=${BENCH_DIR}/f34.toml; key=k1; poll=1h"`
	F0342 int `live:"file=${BENCH_DIR}/f34.toml; key=k2; poll=1h"`
	F0343 int `live:"file=${BENCH_DIR}/f34.toml; key=k3; poll=1h"`
	F0344 int `live:"file=${BENCH_DIR}/f34.toml; key=k4; poll=1h"`
	F0345 int `live:"file=${BENCH_DIR}/f34.toml; key=k5; poll=1h"`
	F0346 int `live:"file=${BENCH_DIR}/f34.toml; key=k6; poll=1h"`
	F0347 int `live:"file=${BENCH_DIR}/f34.toml; key=k7; poll=1h"`
	F0348 int `live:"file=${BENCH_DIR}/f34.toml; key=k8; poll=1h"`
	F0349 int `live:"file=${BENCH_DIR}/f34.toml; key=k9; poll=1h; secret"`
	F0350 int `live:"file=${BENCH_DIR}/f35.toml; key=k0; poll=1h"`
	F0351 int `live:"file=${BENCH_DIR}/f35.toml; key=k1; poll=1h"`
	F0352 int `live:"file=${BENCH_DIR}/f35.toml; key=k2; poll=1h"`
	F0353 int `live:"file=${BENCH_DIR}/f35.toml; key=k3; poll=1h"`
	F0354 int `live:"file=${BENCH_DIR}/f35.toml; key=k4; poll=1h"`
	F0355 int `live:"file=${BENCH_DIR}/f35.toml; key=k5; poll=1h"`
	F0356 int `live:"file=${BENCH_DIR}/f35.toml; key=k6; poll=1h"`
	F0357 int `live:"file=${BENCH_DIR}/f35.toml; key=k7; poll=1h"`
	F0358 int `live:"file=${BENCH_DIR}/f35.toml; key=k8; poll=1h"`
	F0359 int `live:"file=${BENCH_DIR}/f35.toml; key=k9; poll=1h; secret"`
	F0360 int `live:"file=${BENCH_DIR}/f36.toml; key=k0; poll=1h"`
	F0361 int `live:"file=${BENCH_DIR}/f36.toml; key=k1; poll=1h"`
	F0362 int `live:"file=${BENCH_DIR}/f36.toml; key=k2; poll=1h"`
	F0363 int `live:"file=${BENCH_DIR}/f36.toml; key=k3; poll=1h"`
	F0364 int `live:"file=${BENCH_DIR}/f36.toml; key=k4; poll=1h"`
	F0365 int `live:"file=${BENCH_DIR}/f36.toml; key=k5; poll=1h"`
	F0366 int `live:"file=${BENCH_DIR}/f36.toml; key=k6; poll=1h"`
	F0367 int `live:"file=${BENCH_DIR}/f36.toml; key=k7; poll=1h"`
	F0368 int `live:"file=${BENCH_DIR}/f36.toml; key=k8; poll=1h"`
	F0369 int `live:"file=${BENCH_DIR}/f36.toml; key=k9; poll=1h; secret"`
	F0370 int `live:"file=${BENCH_DIR}/f37.toml; key=k0; poll=1h"`
	F0371 int `live:"file=${BENCH_DIR}/f37.toml; key=k1; poll=1h"`
	F0372 int `live:"file=${BENCH_DIR}/f37.toml; key=k2; poll=1h"`
	F0373 int `live:"file=${BENCH_DIR}/f37.toml; key=k3; poll=1h"`
	F0374 int `live:"file=${BENCH_DIR}/f37.toml; key=k4; poll=1h"`
	F0375 int `live:"file=${BENCH_DIR}/f37.toml; key=k5; poll=1h"`
	F0376 int `live:"file=${BENCH_DIR}/f37.toml; key=k6; poll=1h"`
	F0377 int `live:"file=${BENCH_DIR}/f37.toml; key=k7; poll=1h"`
	F0378 int `live:"file=${BENCH_DIR}/f37.toml; key=k8; poll=1h"`
	F0379 int `live:"file=${BENCH_DIR}/f37.toml; key=k9; poll=1h; secret"`
	F0380 int `live:"file=${BENCH_DIR}/f38.toml; key=k0; poll=1h"`
	F0381 int `live:"file=${BENCH_DIR}/f38.toml; key=k1; poll=1h"`
	F0382 int `live:"file=${BENCH_DIR}/f38.toml; key=k2; poll=1h"`
	F0383 int `live:"file=${BENCH_DIR}/f38.toml; key=k3; poll=1h"`
	F0384 int `live:"file=${BENCH_DIR}/f38.toml; key=k4; poll=1h"`
	F0385 int `live:"file=${BENCH_DIR}/f38.toml; key=k5; poll=1h"`
	F0386 int `live:"file=${BENCH_DIR}/f38.toml; key=k6; poll=1h"`
	F0387 int `live:"file=${BENCH_DIR}/f38.toml; key=k7; poll=1h"`
	F0388 int `live:"file=${BENCH_DIR}/f38.toml; key=k8; poll=1h"`
	F0389 int `live:"file=${BENCH_DIR}/f38.toml; key=k9; poll=1h; secret"`
	F0390 int `live:"file=${BENCH_DIR}/f39.toml; key=k0; poll=1h"`
	F0391 int `live:"file=${BENCH_DIR}/f39.toml; key=k1; poll=1h"`
	F0392 int `live:"file=${BENCH_DIR}/f39.toml; key=k2; poll=1h"`
	F0393 int `live:"file=${BENCH_DIR}/f39.toml; key=k3; poll=1h"`
	F0394 int `live:"file=${BENCH_DIR}/f39.toml; key=k4; poll=1h"`
	F0395 int `live:"file=${BENCH_DIR}/f39.toml; key=k5; poll=1h"`
	F0396 int `live:"file=${BENCH_DIR}/f39.toml; key=k6; poll=1h"`
	F0397 int `live:"file=${BENCH_DIR}/f39.toml; key=k7; poll=1h"`
	F0398 int `live:"file=${BENCH_DIR}/f39.toml; key=k8; poll=1h"`
	F0399 int `live:"file=${BENCH_DIR}/f39.toml; key=k9; poll=1h; secret"`
	F0400 int `live:"file=${BENCH_DIR}/f40.toml; key=k0; poll=1h"`
	F0401 int `live:"file=${BENCH_DIR}/f40.toml; key=k1; poll=1h"`
	F0402 int `live:"file=${BENCH_DIR}/f40.toml; key=k2; poll=1h"`
	F0403 int `live:"file=${BENCH_DIR}/f40.toml; key=k3; poll=1h"`
	F0404 int `live:"file=${BENCH_DIR}/f40.toml; key=k4; poll=1h"`
	F0405 int `live:"file=${BENCH_DIR}/f40.toml; key=k5; poll=1h"`
	F0406 int `live:"file=${BENCH_DIR}/f40.toml; key=k6; poll=1h"`
	F0407 int `live:"file=${BENCH_DIR}/f40.toml; key=k7; poll=1h"`
	F0408 int `live:"file=${BENCH_DIR}/f40.toml; key=k8; poll=1h"`
	F0409 int `live:"file=${BENCH_DIR}/f40.toml; key=k9; poll=1h; secret"`
	F0410 int `live:"file=${BENCH_DIR}/f41.toml; key=k0; poll=1h"`
	F0411 int `live:"file=${BENCH_DIR}/f41.toml; key=k1; poll=1h"`
	F0412 int `live:"file=${BENCH_DIR}/f41.toml; key=k2; poll=1h"`
	F0413 int `live:"file=${BENCH_DIR}/f41.toml; key=k3; poll=1h"`
	F0414 int `live:"file=${BENCH_DIR}/f41.toml; key=k4; poll=1h"`
	F0415 int `live:"file=${BENCH_DIR}/f41.toml; key=k5; poll=1h"`
	F0416 int `live:"file=${BENCH_DIR}/f41.toml; key=k6; poll=1h"`
	F0417 int `live:"file=${BENCH_DIR}/f41.toml; key=k7; poll=1h"`
	F0418 int `live:"file=${BENCH_DIR}/f41.toml; key=k8; poll=1h"`
	F0419 int `live:"file=${BENCH_DIR}/f41.toml; key=k9; poll=1h; secret"`
	F0420 int `live:"file=${BENCH_DIR}/f42.toml; key=k0; poll=1h"`
	F0421 int `live:"file=${BENCH_DIR}/f42.toml; key=k1; poll=1h"`
	F0422 int `live:"file=${BENCH_DIR}/f42.toml; key=k2; poll=1h"`
	F0423 int `live:"file=${BENCH_DIR}/f42.toml; key=k3; poll=1h"`
	F0424 int `live:"file=${BENCH_DIR}/f42.toml; key=k4; poll=1h"`
	F0425 int `live:"file=${BENCH_DIR}/f42.toml; key=k5; poll=1h"`
	F0426 int `live:"file=${BENCH_DIR}/f42.toml; key=k6; poll=1h"`
	F0427 int `live:"file=${BENCH_DIR}/f42.toml; key=k7; poll=1h"`
	F0428 int `live:"file=${BENCH_DIR}/f42.toml; key=k8; poll=1h"`
	F0429 int `live:"file=${BENCH_DIR}/f42.toml; key=k9; poll=1h; secret"`
	F0430 int `live:"file=${BENCH_DIR}/f43.toml; key=k0; poll=1h"`
	F0431 int `live:"file=${BENCH_DIR}/f43.toml; key=k1; poll=1h"`
	F0432 int `live:"file=${BENCH_DIR}/f43.toml; key=k2; poll=1h"`
	F0433 int `live:"file=${BENCH_DIR}/f43.toml; key=k3; poll=1h"`
	F0434 int `live:"file=${BENCH_DIR}/f43.toml; key=k4; poll=1h"`
	F0435 int `live:"file=${BENCH_DIR}/f43.toml; key=k5; poll=1h"`
	F0436 int `live:"file=${BENCH_DIR}/f43.toml; key=k6; poll=1h"`
	F0437 int `live:"file=${BENCH_DIR}/f43.toml; key=k7; poll=1h"`
	F0438 int `live:"file=${BENCH_DIR}/f43.toml; key=k8; poll=1h"`
	F0439 int `live:"file=${BENCH_DIR}/f43.toml; key=k9; poll=1h; secret"`
	F0440 int `live:"file=${BENCH_DIR}/f44.toml; key=k0; poll=1h"`
	F0441 int `live:"file=${BENCH_DIR}/f44.toml; key=k1; poll=1h"`
	F0442 int `live:"file=${BENCH_DIR}/f44.toml; key=k2; poll=1h"`
	F0443 int `live:"file=${BENCH_DIR}/f44.toml; key=k3; poll=1h"`
	F0444 int `live:"file=${BENCH_DIR}/f44.toml; key=k4; poll=1h"`
	F0445 int `live:"file=${BENCH_DIR}/f44.toml; key=k5; poll=1h"`
	F0446 int `live:"file=${BENCH_DIR}/f44.toml; key=k6; poll=1h"`
	F0447 int `live:"file=${BENCH_DIR}/f44.toml; key=k7; poll=1h"`
	F0448 int `live:"file=${BENCH_DIR}/f44.toml; key=k8; poll=1h"`
	F0449 int `live:"file=${BENCH_DIR}/f44.toml; key=k9; poll=1h; secret"`
	F0450 int `live:"file=${BENCH_DIR}/f45.toml; key=k0; poll=1h"`
	F0451 int `live:"file=${BENCH_DIR}/f45.toml; key=k1; poll=1h"`
	F0452 int `live:"file=${BENCH_DIR}/f45.toml; key=k2; poll=1h"`
	F0453 int `live:"file=${BENCH_DIR}/f45.toml; key=k3; poll=1h"`
	F0454 int `live:"file=${BENCH_DIR}/f45.toml; key=k4; poll=1h"`
	F0455 int `live:"file=${BENCH_DIR}/f45.toml; key=k5; poll=1h"`
	F0456 int `live:"file=${BENCH_DIR}/f45.toml; key=k6; poll=1h"`
	F0457 int `live:"file=${BENCH_DIR}/f45.toml; key=k7; poll=1h"`
	F0458 int `live:"file=${BENCH_DIR}/f45.toml; key=k8; poll=1h"`
	F0459 int `live:"file=${BENCH_DIR}/f45.toml; key=k9; poll=1h; secret"`
	F0460 int `live:"file=${BENCH_DIR}/f46.toml; key=k0; poll=1h"`
	F0461 int `live:"file=${BENCH_DIR}/f46.toml; key=k1; poll=1h"`
	F0462 int `live:"file=${BENCH_DIR}/f46.toml; key=k2; poll=1h"`
	F0463 int `live:"file=${BENCH_DIR}/f46.toml; key=k3; poll=1h"`
	F0464 int `live:"file=${BENCH_DIR}/f46.toml; key=k4; poll=1h"`
	F0465 int `live:"file=${BENCH_DIR}/f46.toml; key=k5; poll=1h"`
	F0466 int `live:"file=${BENCH_DIR}/f46.toml; key=k6; poll=1h"`
	F0467 int `live:"file=${BENCH_DIR}/f46.toml; key=k7; poll=1h"`
	F0468 int `live:"file=${BENCH_DIR}/f46.toml; key=k8; poll=1h"`
	F0469 int `live:"file=${BENCH_DIR}/f46.toml; key=k9; poll=1h; secret"`
	F0470 int `live:"file=${BENCH_DIR}/f47.toml; key=k0; poll=1h"`
	F0471 int `live:"file=${BENCH_DIR}/f47.toml; key=k1; poll=1h"`
	F0472 int `live:"file=${BENCH_DIR}/f47.toml; key=k2; poll=1h"`
	F0473 int `live:"file=${BENCH_DIR}/f47.toml; key=k3; poll=1h"`
	F0474 int `live:"file=${BENCH_DIR}/f47.toml; key=k4; poll=1h"`
	F0475 int `live:"file=${BENCH_DIR}/f47.toml; key=k5; poll=1h"`
	F0476 int `live:"file=${BENCH_DIR}/f47.toml; key=k6; poll=1h"`
	F0477 int `live:"file=${BENCH_DIR}/f47.toml; key=k7; poll=1h"`
	F0478 int `live:"file=${BENCH_DIR}/f47.toml; key=k8; poll=1h"`
	F0479 int `live:"file=${BENCH_DIR}/f47.toml; key=k9; poll=1h; secret"`
	F0480 int `live:"file=${BENCH_DIR}/f48.toml; key=k0; poll=1h"`
	F0481 int `live:"file=${BENCH_DIR}/f48.toml; key=k1; poll=1h"`
	F0482 int `live:"file=${BENCH_DIR}/f48.toml; key=k2; poll=1h"`
	F0483 int `live:"file=${BENCH_DIR}/f48.toml; key=k3; poll=1h"`
	F0484 int `live:"file=${BENCH_DIR}/f48.toml; key=k4; poll=1h"`
	F0485 int `live:"file=${BENCH_DIR}/f48.toml; key=k5; poll=1h"`
	F0486 int `live:"file=${BENCH_DIR}/f48.toml; key=k6; poll=1h"`
	F0487 int `live:"file=${BENCH_DIR}/f48.toml; key=k7; poll=1h"`
	F0488 int `live:"file=${BENCH_DIR}/f48.toml; key=k8; poll=1h"`
	F0489 int `live:"file=${BENCH_DIR}/f48.toml; key=k9; poll=1h; secret"`
	F0490 int `live:"file=${BENCH_DIR}/f49.toml; key=k0; poll=1h"`
	F0491 int `live:"file=${BENCH_DIR}/f49.toml; key=k1; poll=1h"`
	F0492 int `live:"file=${BENCH_DIR}/f49.toml; key=k2; poll=1h"`
	F0493 int `live:"file=${BENCH_DIR}/f49.toml; key=k3; poll=1h"`
	F0494 int `live:"file=${BENCH_DIR}/f49.toml; key=k4; poll=1h"`
	F0495 int `live:"file=${BENCH_DIR}/f49.toml; key=k5; poll=1h"`
	F0496 int `live:"file=${BENCH_DIR}/f49.toml; key=k6; poll=1h"`
	F0497 int `live:"file=${BENCH_DIR}/f49.toml; key=k7; poll=1h"`
	F0498 int `live:"file=${BENCH_DIR}/f49.toml; key=k8; poll=1h"`
	F0499 int `live:"file=${BENCH_DIR}/f49.toml; key=k9; poll=1h; secret"`
	F0500 int `live:"file=${BENCH_DIR}/f50.toml; key=k0; poll=1h"`
	F0501 int `live:"file=${BENCH_DIR}/f50.toml; key=k1; poll=1h"`
	F0502 int `live:"file=${BENCH_DIR}/f50.toml; key=k2; poll=1h"`
	F0503 int `live:"file=${BENCH_DIR}/f50.toml; key=k3; poll=1h"`
	F0504 int `live:"file=${BENCH_DIR}/f50.toml; key=k4; poll=1h"`
	F0505 int `live:"file=${BENCH_DIR}/f50.toml; key=k5; poll=1h"`
	F0506 int `live:"file=${BENCH_DIR}/f50.toml; key=k6; poll=1h"`
	F0507 int `live:"file=${BENCH_DIR}/f50.toml; key=k7; poll=1h"`
	F0508 int `live:"file=${BENCH_DIR}/f50.toml; key=k8; poll=1h"`
	F0509 int `live:"file=${BENCH_DIR}/f50.toml; key=k9; poll=1h; secret"`
	F0510 int `live:"file=${BENCH_DIR}/f51.toml; key=k0; poll=1h"`
	F0511 int `live:"file=${BENCH_DIR}/f51.toml; key=k1; poll=1h"`
	F0512 int `live:"file=${BENCH_DIR}/f51.toml; key=k2; poll=1h"`
	F0513 int `live:"file=${BENCH_DIR}/f51.toml; key=k3; poll=1h"`
	F0514 int `live:"file=${BENCH_DIR}/f51.toml; key=k4; poll=1h"`
	F0515 int `live:"file=${BENCH_DIR}/f51.toml; key=k5; poll=1h"`
	F0516 int `live:"file=${BENCH_DIR}/f51.toml; key=k6; poll=1h"`
	F0517 int `live:"file=${BENCH_DIR}/f51.toml; key=k7; poll=1h"`
	F0518 int `live:"file=${BENCH_DIR}/f51.toml; key=k8; poll=1h"`
	F0519 int `live:"file=${BENCH_DIR}/f51.toml; key=k9; poll=1h; secret"`
	F0520 int `live:"file=${BENCH_DIR}/f52.toml; key=k0; poll=1h"`
	F0521 int `live:"file=${BENCH_DIR}/f52.toml; key=k1; poll=1h"`
	F0522 int `live:"file=${BENCH_DIR}/f52.toml; key=k2; poll=1h"`
	F0523 int `live:"file=${BENCH_DIR}/f52.toml; key=k3; poll=1h"`
	F0524 int `live:"file=${BENCH_DIR}/f52.toml; key=k4; poll=1h"`
	F0525 int `live:"file=${BENCH_DIR}/f52.toml; key=k5; poll=1h"`
	F0526 int `live:"file=${BENCH_DIR}/f52.toml; key=k6; poll=1h"`
	F0527 int `live:"file=${BENCH_DIR}/f52.toml; key=k7; poll=1h"`
	F0528 int `live:"file=${BENCH_DIR}/f52.toml; key=k8; poll=1h"`
	F0529 int `live:"file=${BENCH_DIR}/f52.toml; key=k9; poll=1h; secret"`
	F0530 int `live:"file=${BENCH_DIR}/f53.toml; key=k0; poll=1h"`
	F0531 int `live:"file=${BENCH_DIR}/f53.toml; key=k1; poll=1h"`
	F0532 int `live:"file=${BENCH_DIR}/f53.toml; key=k2; poll=1h"`
	F0533 int `live:"file=${BENCH_DIR}/f53.toml; key=k3; poll=1h"`
	F0534 int `live:"file=${BENCH_DIR}/f53.toml; key=k4; poll=1h"`
	F0535 int `live:"file=${BENCH_DIR}/f53.toml; key=k5; poll=1h"`
	F0536 int `live:"file=${BENCH_DIR}/f53.toml; key=k6; poll=1h"`
	F0537 int `live:"file=${BENCH_DIR}/f53.toml; key=k7; poll=1h"`
	F0538 int `live:"file=${BENCH_DIR}/f53.toml; key=k8; poll=1h"`
	F0539 int `live:"file=${BENCH_DIR}/f53.toml; key=k9; poll=1h; secret"`
	F0540 int `live:"file=${BENCH_DIR}/f54.toml; key=k0; poll=1h"`
	F0541 int `live:"file=${BENCH_DIR}/f54.toml; key=k1; poll=1h"`
	F0542 int `live:"file=${BENCH_DIR}/f54.toml; key=k2; poll=1h"`
	F0543 int `live:"file=${BENCH_DIR}/f54.toml; key=k3; poll=1h"`
	F0544 int `live:"file=${BENCH_DIR}/f54.toml; key=k4; poll=1h"`
	F0545 int `live:"file=${BENCH_DIR}/f54.toml; key=k5; poll=1h"`
	F0546 int `live:"file=${BENCH_DIR}/f54.toml; key=k6; poll=1h"`
	F0547 int `live:"file=${BENCH_DIR}/f54.toml; key=k7; poll=1h"`
	F0548 int `live:"file=${BENCH_DIR}/f54.toml; key=k8; poll=1h"`
	F0549 int `live:"file=${BENCH_DIR}/f54.toml; key=k9; poll=1h; secret"`
	F0550 int `live:"file=${BENCH_DIR}/f55.toml; key=k0; poll=1h"`
	F0551 int `live:"file=${BENCH_DIR}/f55.toml; key=k1; poll=1h"`
	F0552 int `live:"file=${BENCH_DIR}/f55.toml; key=k2; poll=1h"`
	F0553 int `live:"file=${BENCH_DIR}/f55.toml; key=k3; poll=1h"`
	F0554 int `live:"file=${BENCH_DIR}/f55.toml; key=k4; poll=1h"`
	F0555 int `live:"file=${BENCH_DIR}/f55.toml; key=k5; poll=1h"`
	F0556 int `live:"file=${BENCH_DIR}/f55.toml; key=k6; poll=1h"`
	F0557 int `live:"file=${BENCH_DIR}/f55.toml; key=k7; poll=1h"`
	F0558 int `live:"file=${BENCH_DIR}/f55.toml; key=k8; poll=1h"`
	F0559 int `live:"file=${BENCH_DIR}/f55.toml; key=k9; poll=1h; secret"`
	F0560 int `live:"file=${BENCH_DIR}/f56.toml; key=k0; poll=1h"`
	F0561 int `live:"file=${BENCH_DIR}/f56.toml; key=k1; poll=1h"`
	F0562 int `live:"file=${BENCH_DIR}/f56.toml; key=k2; poll=1h"`
	F0563 int `live:"file=${BENCH_DIR}/f56.toml; key=k3; poll=1h"`
	F0564 int `live:"file=${BENCH_DIR}/f56.toml; key=k4; poll=1h"`
	F0565 int `live:"file=${BENCH_DIR}/f56.toml; key=k5; poll=1h"`
	F0566 int `live:"file=${BENCH_DIR}/f56.toml; key=k6; poll=1h"`
	F0567 int `live:"file=${BENCH_DIR}/f56.toml; key=k7; poll=1h"`
	F0568 int `live:"file=${BENCH_DIR}/f56.toml; key=k8; poll=1h"`
	F0569 int `live:"file=${BENCH_DIR}/f56.toml; key=k9; poll=1h; secret"`
	F0570 int `live:"file=${BENCH_DIR}/f57.toml; key=k0; poll=1h"`
	F0571 int `live:"file=${BENCH_DIR}/f57.toml; key=k1; poll=1h"`
	F0572 int `live:"file=${BENCH_DIR}/f57.toml; key=k2; poll=1h"`
	F0573 int `live:"file=${BENCH_DIR}/f57.toml; key=k3; poll=1h"`
	F0574 int `live:"file=${BENCH_DIR}/f57.toml; key=k4; poll=1h"`
	F0575 int `live:"file=${BENCH_DIR}/f57.toml; key=k5; poll=1h"`
	F0576 int `live:"file=${BENCH_DIR}/f57.toml; key=k6; poll=1h"`
	F0577 int `live:"file=${BENCH_DIR}/f57.toml; key=k7; poll=1h"`
	F0578 int `live:"file=${BENCH_DIR}/f57.toml; key=k8; poll=1h"`
	F0579 int `live:"file=${BENCH_DIR}/f57.toml; key=k9; poll=1h; secret"`
	F0580 int `live:"file=${BENCH_DIR}/f58.toml; key=k0; poll=1h"`
	F0581 int `live:"file=${BENCH_DIR}/f58.toml; key=k1; poll=1h"`
	F0582 int `live:"file=${BENCH_DIR}/f58.toml; key=k2; poll=1h"`
	F0583 int `live:"file=${BENCH_DIR}/f58.toml; key=k3; poll=1h"`
	F0584 int `live:"file=${BENCH_DIR}/f58.toml; key=k4; poll=1h"`
	F0585 int `live:"file=${BENCH_DIR}/f58.toml; key=k5; poll=1h"`
	F0586 int `live:"file=${BENCH_DIR}/f58.toml; key=k6; poll=1h"`
	F0587 int `live:"file=${BENCH_DIR}/f58.toml; key=k7; poll=1h"`
	F0588 int `live:"file=${BENCH_DIR}/f58.toml; key=k8; poll=1h"`
	F0589 int `live:"file=${BENCH_DIR}/f58.toml; key=k9; poll=1h; secret"`
	F0590 int `live:"file=${BENCH_DIR}/f59.toml; key=k0; poll=1h"`
	F0591 int `live:"file=${BENCH_DIR}/f59.toml; key=k1; poll=1h"`
	F0592 int `live:"file=${BENCH_DIR}/f59.toml; key=k2; poll=1h"`
	F0593 int `live:"file=${BENCH_DIR}/f59.toml; key=k3; poll=1h"`
	F0594 int `live:"file=${BENCH_DIR}/f59.toml; key=k4; poll=1h"`
	F0595 int `live:"file=${BENCH_DIR}/f59.toml; key=k5; poll=1h"`
	F0596 int `live:"file=${BENCH_DIR}/f59.toml; key=k6; poll=1h"`
	F0597 int `live:"file=${BENCH_DIR}/f59.toml; key=k7; poll=1h"`
	F0598 int `live:"file=${BENCH_DIR}/f59.toml; key=k8; poll=1h"`
	F0599 int `live:"file=${BENCH_DIR}/f59.toml; key=k9; poll=1h; secret"`
	F0600 int `live:"file=${BENCH_DIR}/f60.toml; key=k0; poll=1h"`
	F0601 int `live:"file=${BENCH_DIR}/f60.toml; key=k1; poll=1h"`
	F0602 int `live:"file=${BENCH_DIR}/f60.toml; key=k2; poll=1h"`
	F0603 int `live:"file=${BENCH_DIR}/f60.toml; key=k3; poll=1h"`
	F0604 int `live:"file=${BENCH_DIR}/f60.toml; key=k4; poll=1h"`
	F0605 int `live:"file=${BENCH_DIR}/f60.toml; key=k5; poll=1h"`
	F0606 int `live:"file=${BENCH_DIR}/f60.toml; key=k6; poll=1h"`
	F0607 int `live:"file=${BENCH_DIR}/f60.toml; key=k7; poll=1h"`
	F0608 int `live:"file=${BENCH_DIR}/f60.toml; key=k8; poll=1h"`
	F0609 int `live:"file=${BENCH_DIR}/f60.toml; key=k9; poll=1h; secret"`
	F0610 int `live:"file=${BENCH_DIR}/f61.toml; key=k0; poll=1h"`
	F0611 int `live:"file=${BENCH_DIR}/f61.toml; key=k1; poll=1h"`
	F0612 int `live:"file=${BENCH_DIR}/f61.toml; key=k2; poll=1h"`
	F0613 int `live:"file=${BENCH_DIR}/f61.toml; key=k3; poll=1h"`
	F0614 int `live:"file=${BENCH_DIR}/f61.toml; key=k4; poll=1h"`
	F0615 int `live:"file=${BENCH_DIR}/f61.toml; key=k5; poll=1h"`
	F0616 int `live:"file=${BENCH_DIR}/f61.toml; key=k6; poll=1h"`
	F0617 int `live:"file=${BENCH_DIR}/f61.toml; key=k7; poll=1h"`
	F0618 int `live:"file=${BENCH_DIR}/f61.toml; key=k8; poll=1h"`
	F0619 int `live:"file=${BENCH_DIR}/f61.toml; key=k9; poll=1h; secret"`
	F0620 int `live:"file=${BENCH_DIR}/f62.toml; key=k0; poll=1h"`
	F0621 int `live:"file=${BENCH_DIR}/f62.toml; key=k1; poll=1h"`
	F0622 int `live:"file=${BENCH_DIR}/f62.toml; key=k2; poll=1h"`
	F0623 int `live:"file=${BENCH_DIR}/f62.toml; key=k3; poll=1h"`
	F0624 int `live:"file=${BENCH_DIR}/f62.toml; key=k4; poll=1h"`
	F0625 int `live:"file=${BENCH_DIR}/f62.toml; key=k5; poll=1h"`
	F0626 int `live:"file=${BENCH_DIR}/f62.toml; key=k6; poll=1h"`
	F0627 int `live:"file=${BENCH_DIR}/f62.toml; key=k7; poll=1h"`
	F0628 int `live:"file=${BENCH_DIR}/f62.toml; key=k8; poll=1h"`
	F0629 int `live:"file=${BENCH_DIR}/f62.toml; key=k9; poll=1h; secret"`
	F0630 int `live:"file=${BENCH_DIR}/f63.toml; key=k0; poll=1h"`
	F0631 int `live:"file=${BENCH_DIR}/f63.toml; key=k1; poll=1h"`
	F0632 int `live:"file=${BENCH_DIR}/f63.toml; key=k2; poll=1h"`
	F0633 int `live:"file=${BENCH_DIR}/f63.toml; key=k3; poll=1h"`
	F0634 int `live:"file=${BENCH_DIR}/f63.toml; key=k4; poll=1h"`
	F0635 int `live:"file=${BENCH_DIR}/f63.toml; key=k5; poll=1h"`
	F0636 int `live:"file=${BENCH_DIR}/f63.toml; key=k6; poll=1h"`
	F0637 int `live:"file=${BENCH_DIR}/f63.toml; key=k7; poll=1h"`
	F0638 int `live:"file=${BENCH_DIR}/f63.toml; key=k8; poll=1h"`
	F0639 int `live:"file=${BENCH_DIR}/f63.toml; key=k9; poll=1h; secret"`
	F0640 int `live:"file=${BENCH_DIR}/f64.toml; key=k0; poll=1h"`
	F0641 int `live:"file=${BENCH_DIR}/f64.toml; key=k1; poll=1h"`
	F0642 int `live:"file=${BENCH_DIR}/f64.toml; key=k2; poll=1h"`
	F0643 int `live:"file=${BENCH_DIR}/f64.toml; key=k3; poll=1h"`
	F0644 int `live:"file=${BENCH_DIR}/f64.toml; key=k4; poll=1h"`
	F0645 int `live:"file=${BENCH_DIR}/f64.toml; key=k5; poll=1h"`
	F0646 int `live:"file=${BENCH_DIR}/f64.toml; key=k6; poll=1h"`
	F0647 int `live:"file=${BENCH_DIR}/f64.toml; key=k7; poll=1h"`
	F0648 int `live:"file=${BENCH_DIR}/f64.toml; key=k8; poll=1h"`
	F0649 int `live:"file=${BENCH_DIR}/f64.toml; key=k9; poll=1h; secret"`
	F0650 int `live:"file=${BENCH_DIR}/f65.toml; key=k0; poll=1h"`
	F0651 int `live:"file=${BENCH_DIR}/f65.toml; key=k1; poll=1h"`
	F0652 int `live:"file=${BENCH_DIR}/f65.toml; key=k2; poll=1h"`
	F0653 int `live:"file=${BENCH_DIR}/f65.toml; key=k3; poll=1h"`
	F0654 int `live:"file=${BENCH_DIR}/f65.toml; key=k4; poll=1h"`
	F0655 int `live:"file=${BENCH_DIR}/f65.toml; key=k5; poll=1h"`
	F0656 int `live:"file=${BENCH_DIR}/f65.toml; key=k6; poll=1h"`
	F0657 int `live:"file=${BENCH_DIR}/f65.toml; key=k7; poll=1h"`
	F0658 int `live:"file=${BENCH_DIR}/f65.toml; key=k8; poll=1h"`
	F0659 int `live:"file=${BENCH_DIR}/f65.toml; key=k9; poll=1h; secret"`
	F0660 int `live:"file=${BENCH_DIR}/f66.toml; key=k0; poll=1h"`
	F0661 int `live:"file=${BENCH_DIR}/f66.toml; key=k1; poll=1h"`
	F0662 int `live:"file=${BENCH_DIR}/f66.toml; key=k2; poll=1h"`
	F0663 int `live:"file=${BENCH_DIR}/f66.toml; key=k3; poll=1h"`
	F0664 int `live:"file=${BENCH_DIR}/f66.toml; key=k4; poll=1h"`
	F0665 int `live:"file=${BENCH_DIR}/f66.toml; key=k5; poll=1h"`
	F0666 int `live:"file=${BENCH_DIR}/f66.toml; key=k6; poll=1h"`
	F0667 int `live:"file=${BENCH_DIR}/f66.toml; key=k7; poll=1h"`
	F0668 int `live:"file=${BENCH_DIR}/f66.toml; key=k8; poll=1h"`
	F0669 int `live:"file=${BENCH_DIR}/f66.toml; key=k9; poll=1h; secret"`
	F0670 int `live:"file=${BENCH_DIR}/f67.toml; key=k0; poll=1h"`
	F0671 int `live:"file=${BENCH_DIR}/f67.toml; key=k1; poll=1h"`
	F0672 int `live:"file=${BENCH_DIR}/f67.toml; key=k2; poll=1h"`
	F0673 int `live:"file=${BENCH_DIR}/f67.toml; key=k3; poll=1h"`
	F0674 int `live:"file=${BENCH_DIR}/f67.toml; key=k4; poll=1h"`
	F0675 int `live:"file=${BENCH_DIR}/f67.toml; key=k5; poll=1h"`
	F0676 int `live:"file=${BENCH_DIR}/f67.toml; key=k6; poll=1h"`
	F0677 int `live:"file=${BENCH_DIR}/f67.toml; key=k7; poll=1h"`
	F0678 int `live:"file=${BENCH_DIR}/f67.toml; key=k8; poll=1h"`
	F0679 int `live:"file=${BENCH_DIR}/f67.toml; key=k9; poll=1h; secret"`
	F0680 int `live:"file=${BENCH_DIR}/f68.toml; key=k0; poll=1h"`
	F0681 int `live:"file=${BENCH_DIR}/f68.toml; key=k1; poll=1h"`
	F0682 int `live:"file=${BENCH_DIR}/f68.toml; key=k2; poll=1h"`
	F0683 int `live:"file=${BENCH_DIR}/f68.toml; key=k3; poll=1h"`
	F0684 int `live:"file=${BENCH_DIR}/f68.toml; key=k4; poll=1h"`
	F0685 int `live:"file=${BENCH_DIR}/f68.toml; key=k5; poll=1h"`
	F0686 int `live:"file=${BENCH_DIR}/f68.toml; key=k6; poll=1h"`
	F0687 int `live:"file=${BENCH_DIR}/f68.toml; key=k7; poll=1h"`
	F0688 int `live:"file=${BENCH_DIR}/f68.toml; key=k8; poll=1h"`
	F0689 int `live:"file=${BENCH_DIR}/f68.toml; key=k9; poll=1h; secret"`
	F0690 int `live:"file=${BENCH_DIR}/f69.toml; key=k0; poll=1h"`
	F0691 int `live:"file=${BENCH_DIR}/f69.toml; key=k1; poll=1h"`
	F0692 int `live:"file=${BENCH_DIR}/f69.toml; key=k2; poll=1h"`
	F0693 int `live:"file=${BENCH_DIR}/f69.toml; key=k3; poll=1h"`
	F0694 int `live:"file=${BENCH_DIR}/f69.toml; key=k4; poll=1h"`
	F0695 int `live:"file=${BENCH_DIR}/f69.toml; key=k5; poll=1h"`
	F0696 int `live:"file=${BENCH_DIR}/f69.toml; key=k6; poll=1h"`
	F0697 int `live:"file=${BENCH_DIR}/f69.toml; key=k7; poll=1h"`
	F0698 int `live:"file=${BENCH_DIR}/f69.toml; key=k8; poll=1h"`
	F0699 int `live:"file=${BENCH_DIR}/f69.toml; key=k9; poll=1h; secret"`
	F0700 int `live:"file=${BENCH_DIR}/f70.toml; key=k0; poll=1h"`
	F0701 int `live:"file=${BENCH_DIR}/f70.toml; key=k1; poll=1h"`
	F0702 int `live:"file=${BENCH_DIR}/f70.toml; key=k2; poll=1h"`
	F0703 int `live:"file=${BENCH_DIR}/f70.toml; key=k3; poll=1h"`
	F0704 int `live:"file=${BENCH_DIR}/f70.toml; key=k4; poll=1h"`
	F0705 int `live:"file=${BENCH_DIR}/f70.toml; key=k5; poll=1h"`
	F0706 int `live:"file=${BENCH_DIR}/f70.toml; key=k6; poll=1h"`
	F0707 int `live:"file=${BENCH_DIR}/f70.toml; key=k7; poll=1h"`
	F0708 int `live:"file=${BENCH_DIR}/f70.toml; key=k8; poll=1h"`
	F0709 int `live:"file=${BENCH_DIR}/f70.toml; key=k9; poll=1h; secret"`
	F0710 int `live:"file=${BENCH_DIR}/f71.toml; key=k0; poll=1h"`
	F0711 int `live:"file=${BENCH_DIR}/f71.toml; key=k1; poll=1h"`
	F0712 int `live:"file=${BENCH_DIR}/f71.toml; key=k2; poll=1h"`
	F0713 int `live:"file=${BENCH_DIR}/f71.toml; key=k3; poll=1h"`
	F0714 int `live:"file=${BENCH_DIR}/f71.toml; key=k4; poll=1h"`
	F0715 int `live:"file=${BENCH_DIR}/f71.toml; key=k5; poll=1h"`
	F0716 int `live:"file=${BENCH_DIR}/f71.toml; key=k6; poll=1h"`
	F0717 int `live:"file=${BENCH_DIR}/f71.toml; key=k7; poll=1h"`
	F0718 int `live:"file=${BENCH_DIR}/f71.toml; key=k8; poll=1h"`
	F0719 int `live:"file=${BENCH_DIR}/f71.toml; key=k9; poll=1h; secret"`
	F0720 int `live:"file=${BENCH_DIR}/f72.toml; key=k0; poll=1h"`
	F0721 int `live:"file=${BENCH_DIR}/f72.toml; key=k1; poll=1h"`
	F0722 int `live:"file=${BENCH_DIR}/f72.toml; key=k2; poll=1h"`
	F0723 int `live:"file=${BENCH_DIR}/f72.toml; key=k3; poll=1h"`
	F0724 int `live:"file=${BENCH_DIR}/f72.toml; key=k4; poll=1h"`
	F0725 int `live:"file=${BENCH_DIR}/f72.toml; key=k5; poll=1h"`
	F0726 int `live:"file=${BENCH_DIR}/f72.toml; key=k6; poll=1h"`
	F0727 int `live:"file=${BENCH_DIR}/f72.toml; key=k7; poll=1h"`
	F0728 int `live:"file=${BENCH_DIR}/f72.toml; key=k8; poll=1h"`
	F0729 int `live:"file=${BENCH_DIR}/f72.toml; key=k9; poll=1h; secret"`
	F0730 int `live:"file=${BENCH_DIR}/f73.toml; key=k0; poll=1h"`
	F0731 int `live:"file=${BENCH_DIR}/f73.toml; key=k1; poll=1h"`
	F0732 int `live:"file=${BENCH_DIR}/f73.toml; key=k2; poll=1h"`
	F0733 int `live:"file=${BENCH_DIR}/f73.toml; key=k3; poll=1h"`
	F0734 int `live:"file=${BENCH_DIR}/f73.toml; key=k4; poll=1h"`
	F0735 int `live:"file=${BENCH_DIR}/f73.toml; key=k5; poll=1h"`
	F0736 int `live:"file=${BENCH_DIR}/f73.toml; key=k6; poll=1h"`
	F0737 int `live:"file=${BENCH_DIR}/f73.toml; key=k7; poll=1h"`
	F0738 int `live:"file=${BENCH_DIR}/f73.toml; key=k8; poll=1h"`
	F0739 int `live:"file=${BENCH_DIR}/f73.toml; key=k9; poll=1h; secret"`
	F0740 int `live:"file=${BENCH_DIR}/f74.toml; key=k0; poll=1h"`
	F0741 int `live:"file=${BENCH_DIR}/f74.toml; key=k1; poll=1h"`
	F0742 int `live:"file=${BENCH_DIR}/f74.toml; key=k2; poll=1h"`
	F0743 int `live:"file=${BENCH_DIR}/f74.toml; key=k3; poll=1h"`
	F0744 int `live:"file=${BENCH_DIR}/f74.toml; key=k4; poll=1h"`
	F0745 int `live:"file=${BENCH_DIR}/f74.toml; key=k5; poll=1h"`
	F0746 int `live:"file=${BENCH_DIR}/f74.toml; key=k6; poll=1h"`
	F0747 int `live:"file=${BENCH_DIR}/f74.toml; key=k7; poll=1h"`
	F0748 int `live:"file=${BENCH_DIR}/f74.toml; key=k8; poll=1h"`
	F0749 int `live:"file=${BENCH_DIR}/f74.toml; key=k9; poll=1h; secret"`
	F0750 int `live:"file=${BENCH_DIR}/f75.toml; key=k0; poll=1h"`
	F0751 int `live:"file=${BENCH_DIR}/f75.toml; key=k1; poll=1h"`
	F0752 int `live:"file=${BENCH_DIR}/f75.toml; key=k2; poll=1h"`
	F0753 int `live:"file=${BENCH_DIR}/f75.toml; key=k3; poll=1h"`
	F0754 int `live:"file=${BENCH_DIR}/f75.toml; key=k4; poll=1h"`
	F0755 int `live:"file=${BENCH_DIR}/f75.toml; key=k5; poll=1h"`
	F0756 int `live:"file=${BENCH_DIR}/f75.toml; key=k6; poll=1h"`
	F0757 int `live:"file=${BENCH_DIR}/f75.toml; key=k7; poll=1h"`
	F0758 int `live:"file=${BENCH_DIR}/f75.toml; key=k8; poll=1h"`
	F0759 int `live:"file=${BENCH_DIR}/f75.toml; key=k9; poll=1h; secret"`
	F0760 int `live:"file=${BENCH_DIR}/f76.toml; key=k0; poll=1h"`
	F0761 int `live:"file=${BENCH_DIR}/f76.toml; key=k1; poll=1h"`
	F0762 int `live:"file=${BENCH_DIR}/f76.toml; key=k2; poll=1h"`
	F0763 int `live:"file=${BENCH_DIR}/f76.toml; key=k3; poll=1h"`
	F0764 int `live:"file=${BENCH_DIR}/f76.toml; key=k4; poll=1h"`
	F0765 int `live:"file=${BENCH_DIR}/f76.toml; key=k5; poll=1h"`
	F0766 int `live:"file=${BENCH_DIR}/f76.toml; key=k6; poll=1h"`
	F0767 int `live:"file=${BENCH_DIR}/f76.toml; key=k7; poll=1h"`
	F0768 int `live:"file=${BENCH_DIR}/f76.toml; key=k8; poll=1h"`
	F0769 int `live:"file=${BENCH_DIR}/f76.toml; key=k9; poll=1h; secret"`
	F0770 int `live:"file=${BENCH_DIR}/f77.toml; key=k0; poll=1h"`
	F0771 int `live:"file=${BENCH_DIR}/f77.toml; key=k1; poll=1h"`
	F0772 int `live:"file=${BENCH_DIR}/f77.toml; key=k2; poll=1h"`
	F0773 int `live:"file=${BENCH_DIR}/f77.toml; key=k3; poll=1h"`
	F0774 int `live:"file=${BENCH_DIR}/f77.toml; key=k4; poll=1h"`
	F0775 int `live:"file=${BENCH_DIR}/f77.toml; key=k5; poll=1h"`
	F0776 int `live:"file=${BENCH_DIR}/f77.toml; key=k6; poll=1h"`
	F0777 int `live:"file=${BENCH_DIR}/f77.toml; key=k7; poll=1h"`
	F0778 int `live:"file=${BENCH_DIR}/f77.toml; key=k8; poll=1h"`
	F0779 int `live:"file=${BENCH_DIR}/f77.toml; key=k9; poll=1h; secret"`
	F0780 int `live:"file=${BENCH_DIR}/f78.toml; key=k0; poll=1h"`
	F0781 int `live:"file=${BENCH_DIR}/f78.toml; key=k1; poll=1h"`
	F0782 int `live:"file=${BENCH_DIR}/f78.toml; key=k2; poll=1h"`
	F0783 int `live:"file=${BENCH_DIR}/f78.toml; key=k3; poll=1h"`
	F0784 int `live:"file=${BENCH_DIR}/f78.toml; key=k4; poll=1h"`
	F0785 int `live:"file=${BENCH_DIR}/f78.toml; key=k5; poll=1h"`
	F0786 int `live:"file=${BENCH_DIR}/f78.toml; key=k6; poll=1h"`
	F0787 int `live:"file=${BENCH_DIR}/f78.toml; key=k7; poll=1h"`
	F0788 int `live:"file=${BENCH_DIR}/f78.toml; key=k8; poll=1h"`
	F0789 int `live:"file=${BENCH_DIR}/f78.toml; key=k9; poll=1h; secret"`
	F0790 int `live:"file=${BENCH_DIR}/f79.toml; key=k0; poll=1h"`
	F0791 int `live:"file=${BENCH_DIR}/f79.toml; key=k1; poll=1h"`
	F0792 int `live:"file=${BENCH_DIR}/f79.toml; key=k2; poll=1h"`
	F0793 int `live:"file=${BENCH_DIR}/f79.toml; key=k3; poll=1h"`
	F0794 int `live:"file=${BENCH_DIR}/f79.toml; key=k4; poll=1h"`
	F0795 int `live:"file=${BENCH_DIR}/f79.toml; key=k5; poll=1h"`
	F0796 int `live:"file=${BENCH_DIR}/f79.toml; key=k6; poll=1h"`
	F0797 int `live:"file=${BENCH_DIR}/f79.toml; key=k7; poll=1h"`
	F0798 int `live:"file=${BENCH_DIR}/f79.toml; key=k8; poll=1h"`
	F0799 int `live:"file=${BENCH_DIR}/f79.toml; key=k9; poll=1h; secret"`
	F0800 int `live:"file=${BENCH_DIR}/f80.toml; key=k0; poll=1h"`
	F0801 int `live:"file=${BENCH_DIR}/f80.toml; key=k1; poll=1h"`
	F0802 int `live:"file=${BENCH_DIR}/f80.toml; key=k2; poll=1h"`
	F0803 int `live:"file=${BENCH_DIR}/f80.toml; key=k3; poll=1h"`
	F0804 int `live:"file=${BENCH_DIR}/f80.toml; key=k4; poll=1h"`
	F0805 int `live:"file=${BENCH_DIR}/f80.toml; key=k5; poll=1h"`
	F0806 int `live:"file=${BENCH_DIR}/f80.toml; key=k6; poll=1h"`
	F0807 int `live:"file=${BENCH_DIR}/f80.toml; key=k7; poll=1h"`
	F0808 int `live:"file=${BENCH_DIR}/f80.toml; key=k8; poll=1h"`
	F0809 int `live:"file=${BENCH_DIR}/f80.toml; key=k9; poll=1h; secret"`
	F0810 int `live:"file=${BENCH_DIR}/f81.toml; key=k0; poll=1h"`
	F0811 int `live:"file=${BENCH_DIR}/f81.toml; key=k1; poll=1h"`
	F0812 int `live:"file=${BENCH_DIR}/f81.toml; key=k2; poll=1h"`
	F0813 int `live:"file=${BENCH_DIR}/f81.toml; key=k3; poll=1h"`
	F0814 int `live:"file=${BENCH_DIR}/f81.toml; key=k4; poll=1h"`
	F0815 int `live:"file=${BENCH_DIR}/f81.toml; key=k5; poll=1h"`
	F0816 int `live:"file=${BENCH_DIR}/f81.toml; key=k6; poll=1h"`
	F0817 int `live:"file=${BENCH_DIR}/f81.toml; key=k7; poll=1h"`
	F0818 int `live:"file=${BENCH_DIR}/f81.toml; key=k8; poll=1h"`
	F0819 int `live:"file=${BENCH_DIR}/f81.toml; key=k9; poll=1h; secret"`
	F0820 int `live:"file=${BENCH_DIR}/f82.toml; key=k0; poll=1h"`
	F0821 int `live:"file=${BENCH_DIR}/f82.toml; key=k1; poll=1h"`
	F0822 int `live:"file=${BENCH_DIR}/f82.toml; key=k2; poll=1h"`
	F0823 int `live:"file=${BENCH_DIR}/f82.toml; key=k3; poll=1h"`
	F0824 int `live:"file=${BENCH_DIR}/f82.toml; key=k4; poll=1h"`
	F0825 int `live:"file=${BENCH_DIR}/f82.toml; key=k5; poll=1h"`
	F0826 int `live:"file=${BENCH_DIR}/f82.toml; key=k6; poll=1h"`
	F0827 int `live:"file=${BENCH_DIR}/f82.toml; key=k7; poll=1h"`
	F0828 int `live:"file=${BENCH_DIR}/f82.toml; key=k8; poll=1h"`
	F0829 int `live:"file=${BENCH_DIR}/f82.toml; key=k9; poll=1h; secret"`
	F0830 int `live:"file=${BENCH_DIR}/f83.toml; key=k0; poll=1h"`
	F0831 int `live:"file=${BENCH_DIR}/f83.toml; key=k1; poll=1h"`
	F0832 int `live:"file=${BENCH_DIR}/f83.toml; key=k2; poll=1h"`
	F0833 int `live:"file=${BENCH_DIR}/f83.toml; key=k3; poll=1h"`
	F0834 int `live:"file=${BENCH_DIR}/f83.toml; key=k4; poll=1h"`
	F0835 int `live:"file=${BENCH_DIR}/f83.toml; key=k5; poll=1h"`
	F0836 int `live:"file=${BENCH_DIR}/f83.toml; key=k6; poll=1h"`
	F0837 int `live:"file=${BENCH_DIR}/f83.toml; key=k7; poll=1h"`
	F0838 int `live:"file=${BENCH_DIR}/f83.toml; key=k8; poll=1h"`
	F0839 int `live:"file=${BENCH_DIR}/f83.toml; key=k9; poll=1h; secret"`
	F0840 int `live:"file=${BENCH_DIR}/f84.toml; key=k0; poll=1h"`
	F0841 int `live:"file=${BENCH_DIR}/f84.toml; key=k1; poll=1h"`
	F0842 int `live:"file=${BENCH_DIR}/f84.toml; key=k2; poll=1h"`
	F0843 int `live:"file=${BENCH_DIR}/f84.toml; key=k3; poll=1h"`
	F0844 int `live:"file=${BENCH_DIR}/f84.toml; key=k4; poll=1h"`
	F0845 int `live:"file=${BENCH_DIR}/f84.toml; key=k5; poll=1h"`
	F0846 int `live:"file=${BENCH_DIR}/f84.toml; key=k6; poll=1h"`
	F0847 int `live:"file=${BENCH_DIR}/f84.toml; key=k7; poll=1h"`
	F0848 int `live:"file=${BENCH_DIR}/f84.toml; key=k8; poll=1h"`
	F0849 int `live:"file=${BENCH_DIR}/f84.toml; key=k9; poll=1h; secret"`
	F0850 int `live:"file=${BENCH_DIR}/f85.toml; key=k0; poll=1h"`
	F0851 int `live:"file=${BENCH_DIR}/f85.toml; key=k1; poll=1h"`
	F0852 int `live:"file=${BENCH_DIR}/f85.toml; key=k2; poll=1h"`
	F0853 int `live:"file=${BENCH_DIR}/f85.toml; key=k3; poll=1h"`
	F0854 int `live:"file=${BENCH_DIR}/f85.toml; key=k4; poll=1h"`
	F0855 int `live:"file=${BENCH_DIR}/f85.toml; key=k5; poll=1h"`
	F0856 int `live:"file=${BENCH_DIR}/f85.toml; key=k6; poll=1h"`
	F0857 int `live:"file=${BENCH_DIR}/f85.toml; key=k7; poll=1h"`
	F0858 int `live:"file=${BENCH_DIR}/f85.toml; key=k8; poll=1h"`
	F0859 int `live:"file=${BENCH_DIR}/f85.toml; key=k9; poll=1h; secret"`
	F0860 int `live:"file=${BENCH_DIR}/f86.toml; key=k0; poll=1h"`
	F0861 int `live:"file=${BENCH_DIR}/f86.toml; key=k1; poll=1h"`
	F0862 int `live:"file=${BENCH_DIR}/f86.toml; key=k2; poll=1h"`
	F0863 int `live:"file=${BENCH_DIR}/f86.toml; key=k3; poll=1h"`
	F0864 int `live:"file=${BENCH_DIR}/f86.toml; key=k4; poll=1h"`
	F0865 int `live:"file=${BENCH_DIR}/f86.toml; key=k5; poll=1h"`
	F0866 int `live:"file=${BENCH_DIR}/f86.toml; key=k6; poll=1h"`
	F0867 int `live:"file=${BENCH_DIR}/f86.toml; key=k7; poll=1h"`
	F0868 int `live:"file=${BENCH_DIR}/f86.toml; key=k8; poll=1h"`
	F0869 int `live:"file=${BENCH_DIR}/f86.toml; key=k9; poll=1h; secret"`
	F0870 int `live:"file=${BENCH_DIR}/f87.toml; key=k0; poll=1h"`
	F0871 int `live:"file=${BENCH_DIR}/f87.toml; key=k1; poll=1h"`
	F0872 int `live:"file=${BENCH_DIR}/f87.toml; key=k2; poll=1h"`
	F0873 int `live:"file=${BENCH_DIR}/f87.toml; key=k3; poll=1h"`
	F0874 int `live:"file=${BENCH_DIR}/f87.toml; key=k4; poll=1h"`
	F0875 int `live:"file=${BENCH_DIR}/f87.toml; key=k5; poll=1h"`
	F0876 int `live:"file=${BENCH_DIR}/f87.toml; key=k6; poll=1h"`
	F0877 int `live:"file=${BENCH_DIR}/f87.toml; key=k7; poll=1h"`
	F0878 int `live:"file=${BENCH_DIR}/f87.toml; key=k8; poll=1h"`
	F0879 int `live:"file=${BENCH_DIR}/f87.toml; key=k9; poll=1h; secret"`
	F0880 int `live:"file=${BENCH_DIR}/f88.toml; key=k0; poll=1h"`
	F0881 int `live:"file=${BENCH_DIR}/f88.toml; key=k1; poll=1h"`
	F0882 int `live:"file=${BENCH_DIR}/f88.toml; key=k2; poll=1h"`
	F0883 int `live:"file=${BENCH_DIR}/f88.toml; key=k3; poll=1h"`
	F0884 int `live:"file=${BENCH_DIR}/f88.toml; key=k4; poll=1h"`
	F0885 int `live:"file=${BENCH_DIR}/f88.toml; key=k5; poll=1h"`
	F0886 int `live:"file=${BENCH_DIR}/f88.toml; key=k6; poll=1h"`
	F0887 int `live:"file=${BENCH_DIR}/f88.toml; key=k7; poll=1h"`
	F0888 int `live:"file=${BENCH_DIR}/f88.toml; key=k8; poll=1h"`
	F0889 int `live:"file=${BENCH_DIR}/f88.toml; key=k9; poll=1h; secret"`
	F0890 int `live:"file=${BENCH_DIR}/f89.toml; key=k0; poll=1h"`
	F0891 int `live:"file=${BENCH_DIR}/f89.toml; key=k1; poll=1h"`
	F0892 int `live:"file=${BENCH_DIR}/f89.toml; key=k2; poll=1h"`
	F0893 int `live:"file=${BENCH_DIR}/f89.toml; key=k3; poll=1h"`
	F0894 int `live:"file=${BENCH_DIR}/f89.toml; key=k4; poll=1h"`
	F0895 int `live:"file=${BENCH_DIR}/f89.toml; key=k5; poll=1h"`
	F0896 int `live:"file=${BENCH_DIR}/f89.toml; key=k6; poll=1h"`
	F0897 int `live:"file=${BENCH_DIR}/f89.toml; key=k7; poll=1h"`
	F0898 int `live:"file=${BENCH_DIR}/f89.toml; key=k8; poll=1h"`
	F0899 int `live:"file=${BENCH_DIR}/f89.toml; key=k9; poll=1h; secret"`
	F0900 int `live:"file=${BENCH_DIR}/f90.toml; key=k0; poll=1h"`
	F0901 int `live:"file=${BENCH_DIR}/f90.toml; key=k1; poll=1h"`
	F0902 int `live:"file=${BENCH_DIR}/f90.toml; key=k2; poll=1h"`
	F0903 int `live:"file=${BENCH_DIR}/f90.toml; key=k3; poll=1h"`
	F0904 int `live:"file=${BENCH_DIR}/f90.toml; key=k4; poll=1h"`
	F0905 int `live:"file=${BENCH_DIR}/f90.toml; key=k5; poll=1h"`
	F0906 int `live:"file=${BENCH_DIR}/f90.toml; key=k6; poll=1h"`
	F0907 int `live:"file=${BENCH_DIR}/f90.toml; key=k7; poll=1h"`
	F0908 int `live:"file=${BENCH_DIR}/f90.toml; key=k8; poll=1h"`
	F0909 int `live:"file=${BENCH_DIR}/f90.toml; key=k9; poll=1h; secret"`
	F0910 int `live:"file=${BENCH_DIR}/f91.toml; key=k0; poll=1h"`
	F0911 int `live:"file=${BENCH_DIR}/f91.toml; key=k1; poll=1h"`
	F0912 int `live:"file=${BENCH_DIR}/f91.toml; key=k2; poll=1h"`
	F0913 int `live:"file=${BENCH_DIR}/f91.toml; key=k3; poll=1h"`
	F0914 int `live:"file=${BENCH_DIR}/f91.toml; key=k4; poll=1h"`
	F0915 int `live:"file=${BENCH_DIR}/f91.toml; key=k5; poll=1h"`
	F0916 int `live:"file=${BENCH_DIR}/f91.toml; key=k6; poll=1h"`
	F0917 int `live:"file=${BENCH_DIR}/f91.toml; key=k7; poll=1h"`
	F0918 int `live:"file=${BENCH_DIR}/f91.toml; key=k8; poll=1h"`
	F0919 int `live:"file=${BENCH_DIR}/f91.toml; key=k9; poll=1h; secret"`
	F0920 int `live:"file=${BENCH_DIR}/f92.toml; key=k0; poll=1h"`
	F0921 int `live:"file=${BENCH_DIR}/f92.toml; key=k1; poll=1h"`
	F0922 int `live:"file=${BENCH_DIR}/f92.toml; key=k2; poll=1h"`
	F0923 int `live:"file=${BENCH_DIR}/f92.toml; key=k3; poll=1h"`
	F0924 int `live:"file=${BENCH_DIR}/f92.toml; key=k4; poll=1h"`
	F0925 int `live:"file=${BENCH_DIR}/f92.toml; key=k5; poll=1h"`
	F0926 int `live:"file=${BENCH_DIR}/f92.toml; key=k6; poll=1h"`
	F0927 int `live:"file=${BENCH_DIR}/f92.toml; key=k7; poll=1h"`
	F0928 int `live:"file=${BENCH_DIR}/f92.toml; key=k8; poll=1h"`
	F0929 int `live:"file=${BENCH_DIR}/f92.toml; key=k9; poll=1h; secret"`
	F0930 int `live:"file=${BENCH_DIR}/f93.toml; key=k0; poll=1h"`
	F0931 int `live:"file=${BENCH_DIR}/f93.toml; key=k1; poll=1h"`
	F0932 int `live:"file=${BENCH_DIR}/f93.toml; key=k2; poll=1h"`
	F0933 int `live:"file=${BENCH_DIR}/f93.toml; key=k3; poll=1h"`
	F0934 int `live:"file=${BENCH_DIR}/f93.toml; key=k4; poll=1h"`
	F0935 int `live:"file=${BENCH_DIR}/f93.toml; key=k5; poll=1h"`
	F0936 int `live:"file=${BENCH_DIR}/f93.toml; key=k6; poll=1h"`
	F0937 int `live:"file=${BENCH_DIR}/f93.toml; key=k7; poll=1h"`
	F0938 int `live:"file=${BENCH_DIR}/f93.toml; key=k8; poll=1h"`
	F0939 int `live:"file=${BENCH_DIR}/f93.toml; key=k9; poll=1h; secret"`
	F0940 int `live:"file=${BENCH_DIR}/f94.toml; key=k0; poll=1h"`
	F0941 int `live:"file=${BENCH_DIR}/f94.toml; key=k1; poll=1h"`
	F0942 int `live:"file=${BENCH_DIR}/f94.toml; key=k2; poll=1h"`
	F0943 int `live:"file=${BENCH_DIR}/f94.toml; key=k3; poll=1h"`
	F0944 int `live:"file=${BENCH_DIR}/f94.toml; key=k4; poll=1h"`
	F0945 int `live:"file=${BENCH_DIR}/f94.toml; key=k5; poll=1h"`
	F0946 int `live:"file=${BENCH_DIR}/f94.toml; key=k6; poll=1h"`
	F0947 int `live:"file=${BENCH_DIR}/f94.toml; key=k7; poll=1h"`
	F0948 int `live:"file=${BENCH_DIR}/f94.toml; key=k8; poll=1h"`
	F0949 int `live:"file=${BENCH_DIR}/f94.toml; key=k9; poll=1h; secret"`
	F0950 int `live:"file=${BENCH_DIR}/f95.toml; key=k0; poll=1h"`
	F0951 int `live:"file=${BENCH_DIR}/f95.toml; key=k1; poll=1h"`
	F0952 int `live:"file=${BENCH_DIR}/f95.toml; key=k2; poll=1h"`
	F0953 int `live:"file=${BENCH_DIR}/f95.toml; key=k3; poll=1h"`
	F0954 int `live:"file=${BENCH_DIR}/f95.toml; key=k4; poll=1h"`
	F0955 int `live:"file=${BENCH_DIR}/f95.toml; key=k5; poll=1h"`
	F0956 int `live:"file=${BENCH_DIR}/f95.toml; key=k6; poll=1h"`
	F0957 int `live:"file=${BENCH_DIR}/f95.toml; key=k7; poll=1h"`
	F0958 int `live:"file=${BENCH_DIR}/f95.toml; key=k8; poll=1h"`
	F0959 int `live:"file=${BENCH_DIR}/f95.toml; key=k9; poll=1h; secret"`
	F0960 int `live:"file=${BENCH_DIR}/f96.toml; key=k0; poll=1h"`
	F0961 int `live:"file=${BENCH_DIR}/f96.toml; key=k1; poll=1h"`
	F0962 int `live:"file=${BENCH_DIR}/f96.toml; key=k2; poll=1h"`
	F0963 int `live:"file=${BENCH_DIR}/f96.toml; key=k3; poll=1h"`
	F0964 int `live:"file=${BENCH_DIR}/f96.toml; key=k4; poll=1h"`
	F0965 int `live:"file=${BENCH_DIR}/f96.toml; key=k5; poll=1h"`
	F0966 int `live:"file=${BENCH_DIR}/f96.toml; key=k6; poll=1h"`
	F0967 int `live:"file=${BENCH_DIR}/f96.toml; key=k7; poll=1h"`
	F0968 int `live:"file=${BENCH_DIR}/f96.toml; key=k8; poll=1h"`
	F0969 int `live:"file=${BENCH_DIR}/f96.toml; key=k9; poll=1h; secret"`
	F0970 int `live:"file=${BENCH_DIR}/f97.toml; key=k0; poll=1h"`
	F0971 int `live:"file=${BENCH_DIR}/f97.toml; key=k1; poll=1h"`
	F0972 int `live:"file=${BENCH_DIR}/f97.toml; key=k2; poll=1h"`
	F0973 int `live:"file=${BENCH_DIR}/f97.toml; key=k3; poll=1h"`
	F0974 int `live:"file=${BENCH_DIR}/f97.toml; key=k4; poll=1h"`
	F0975 int `live:"file=${BENCH_DIR}/f97.toml; key=k5; poll=1h"`
	F0976 int `live:"file=${BENCH_DIR}/f97.toml; key=k6; poll=1h"`
	F0977 int `live:"file=${BENCH_DIR}/f97.toml; key=k7; poll=1h"`
	F0978 int `live:"file=${BENCH_DIR}/f97.toml; key=k8; poll=1h"`
	F0979 int `live:"file=${BENCH_DIR}/f97.toml; key=k9; poll=1h; secret"`
	F0980 int `live:"file=${BENCH_DIR}/f98.toml; key=k0; poll=1h"`
	F0981 int `live:"file=${BENCH_DIR}/f98.toml; key=k1; poll=1h"`
	F0982 int `live:"file=${BENCH_DIR}/f98.toml; key=k2; poll=1h"`
	F0983 int `live:"file=${BENCH_DIR}/f98.toml; key=k3; poll=1h"`
	F0984 int `live:"file=${BENCH_DIR}/f98.toml; key=k4; poll=1h"`
	F0985 int `live:"file=${BENCH_DIR}/f98.toml; key=k5; poll=1h"`
	F0986 int `live:"file=${BENCH_DIR}/f98.toml; key=k6; poll=1h"`
	F0987 int `live:"file=${BENCH_DIR}/f98.toml; key=k7; poll=1h"`
	F0988 int `live:"file=${BENCH_DIR}/f98.toml; key=k8; poll=1h"`
	F0989 int `live:"file=${BENCH_DIR}/f98.toml; key=k9; poll=1h; secret"`
	F0990 int `live:"file=${BENCH_DIR}/f99.toml; key=k0; poll=1h"`
	F0991 int `live:"file=${BENCH_DIR}/f99.toml; key=k1; poll=1h"`
	F0992 int `live:"file=${BENCH_DIR}/f99.toml; key=k2; poll=1h"`
	F0993 int `live:"file=${BENCH_DIR}/f99.toml; key=k3; poll=1h"`
	F0994 int `live:"file=${BENCH_DIR}/f99.toml; key=k4; poll=1h"`
	F0995 int `live:"file=${BENCH_DIR}/f99.toml; key=k5; poll=1h"`
	F0996 int `live:"file=${BENCH_DIR}/f99.toml; key=k6; poll=1h"`
	F0997 int `live:"file=${BENCH_DIR}/f99.toml; key=k7; poll=1h"`
	F0998 int `live:"file=${BENCH_DIR}/f99.toml; key=k8; poll=1h"`
	F0999 int `live:"file=${BENCH_DIR}/f99.toml; key=k9; poll=1h; secret"`
}
