#version 330 core
// Bicubic upscale to the output size on the hardware bilinear filter.
//   CATMULL_ROM (default): the sharp interpolating cubic in 5 bilinear fetches: the middle two
//     taps of each axis merge into one fetch between them, and the four corner taps (weights
//     below 2 %) are dropped and the rest renormalised.
//   B_SPLINE: the smooth cubic B-spline in 4 bilinear fetches (softer, a little faster).
uniform sampler2D source;    // linear filtering, clamped edges
uniform vec2 source_size;    // texels
uniform vec2 crop;           // fraction of the source shown per axis (cover-fit, never stretch)
uniform float pulse;         // the picture swells by this fraction about the centre (onsets)

in vec2 uv;
out vec4 color;

vec3 catmull_rom(vec2 p) {
    vec2 base = floor(p - 0.5) + 0.5;   // centre of the texel left of / above p
    vec2 f = p - base;
    vec2 w0 = f * (-0.5 + f * (1.0 - 0.5 * f));
    vec2 w1 = 1.0 + f * f * (-2.5 + 1.5 * f);
    vec2 w2 = f * (0.5 + f * (2.0 - 1.5 * f));
    vec2 w3 = f * f * (-0.5 + 0.5 * f);
    vec2 w12 = w1 + w2;
    vec2 t0 = (base - 1.0) / source_size;
    vec2 t12 = (base + w2 / w12) / source_size;
    vec2 t3 = (base + 2.0) / source_size;
    vec3 sum = texture(source, vec2(t12.x, t0.y)).rgb * (w12.x * w0.y)
             + texture(source, vec2(t0.x, t12.y)).rgb * (w0.x * w12.y)
             + texture(source, t12).rgb * (w12.x * w12.y)
             + texture(source, vec2(t3.x, t12.y)).rgb * (w3.x * w12.y)
             + texture(source, vec2(t12.x, t3.y)).rgb * (w12.x * w3.y);
    float total = w12.x * w0.y + w0.x * w12.y + w12.x * w12.y + w3.x * w12.y + w12.x * w3.y;
    return sum / total;
}

vec3 b_spline(vec2 p) {
    vec2 q = p - 0.5;
    vec2 i = floor(q);
    vec2 f = q - i;
    vec2 f2 = f * f;
    vec2 f3 = f2 * f;
    vec2 w0 = (1.0 - 3.0 * f + 3.0 * f2 - f3) / 6.0;
    vec2 w1 = (4.0 - 6.0 * f2 + 3.0 * f3) / 6.0;
    vec2 w2 = (1.0 + 3.0 * f + 3.0 * f2 - 3.0 * f3) / 6.0;
    vec2 w3 = f3 / 6.0;
    vec2 g0 = w0 + w1;
    vec2 g1 = w2 + w3;
    vec2 a = (i - 0.5 + w1 / g0 + 0.5) / source_size;
    vec2 b = (i + 1.5 + w3 / g1 + 0.5) / source_size;
    return g0.y * (g0.x * texture(source, a).rgb + g1.x * texture(source, vec2(b.x, a.y)).rgb)
         + g1.y * (g0.x * texture(source, vec2(a.x, b.y)).rgb + g1.x * texture(source, b).rgb);
}

void main() {
    vec2 p = ((uv - 0.5) * crop / (1.0 + pulse) + 0.5) * source_size;
#ifdef B_SPLINE
    vec3 rgb = b_spline(p);
#else
    vec3 rgb = catmull_rom(p);
#endif
    color = vec4(clamp(rgb, 0.0, 1.0), 1.0);
}
