#version 330 core
// Catmull-Rom bicubic upscale in 9 bilinear fetches: the two middle taps of each axis are merged
// into one hardware-filtered fetch at the weighted position between them.
uniform sampler2D source;    // linear filtering, clamped edges
uniform vec2 source_size;    // texels
uniform vec2 crop;           // fraction of the source shown per axis (cover-fit, never stretch)

in vec2 uv;
out vec4 color;

void main() {
    vec2 p = ((uv - 0.5) * crop + 0.5) * source_size;
    vec2 base = floor(p - 0.5) + 0.5;   // centre of the texel left/below p
    vec2 f = p - base;

    vec2 w0 = f * (-0.5 + f * (1.0 - 0.5 * f));
    vec2 w1 = 1.0 + f * f * (-2.5 + 1.5 * f);
    vec2 w2 = f * (0.5 + f * (2.0 - 1.5 * f));
    vec2 w3 = f * f * (-0.5 + 0.5 * f);
    vec2 w12 = w1 + w2;

    vec2 t0 = (base - 1.0) / source_size;
    vec2 t12 = (base + w2 / w12) / source_size;
    vec2 t3 = (base + 2.0) / source_size;

    vec4 sum = vec4(0.0);
    sum += texture(source, vec2(t0.x, t0.y)) * w0.x * w0.y;
    sum += texture(source, vec2(t12.x, t0.y)) * w12.x * w0.y;
    sum += texture(source, vec2(t3.x, t0.y)) * w3.x * w0.y;
    sum += texture(source, vec2(t0.x, t12.y)) * w0.x * w12.y;
    sum += texture(source, vec2(t12.x, t12.y)) * w12.x * w12.y;
    sum += texture(source, vec2(t3.x, t12.y)) * w3.x * w12.y;
    sum += texture(source, vec2(t0.x, t3.y)) * w0.x * w3.y;
    sum += texture(source, vec2(t12.x, t3.y)) * w12.x * w3.y;
    sum += texture(source, vec2(t3.x, t3.y)) * w3.x * w3.y;
    color = vec4(clamp(sum.rgb, 0.0, 1.0), 1.0);
}
