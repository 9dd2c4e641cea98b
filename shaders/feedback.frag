#version 330 core
// Feedback zoom: the last canvas, zoomed, rotated, drifted and decayed, with the newest
// (cross-faded) keyframe blended in. Amounts are per frame; the CPU derives them from rates and
// the frame's duration, so motion does not depend on the frame rate.
uniform sampler2D previous;  // the canvas of the last frame (16-bit float, clamped edges)
uniform sampler2D keyframe;  // the cross-faded keyframe
uniform vec2 key_crop;       // fraction of the keyframe shown per axis (cover-fit)
uniform float aspect;        // canvas width / height, so rotation does not shear
uniform float zoom;          // scale this frame; > 1 falls inward
uniform float rotate;        // radians this frame, counter-clockwise on screen
uniform vec2 drift;          // shift this frame, in canvas widths and heights
uniform float decay;         // multiplier on the old canvas this frame
uniform float key_mix;       // share of the keyframe in this frame's canvas

in vec2 uv;
out vec4 color;

void main() {
    vec2 p = (uv - 0.5) * vec2(aspect, 1.0);
    float c = cos(rotate), s = sin(rotate);
    p = mat2(c, -s, s, c) * p / zoom;
    vec2 source = p / vec2(aspect, 1.0) + 0.5 - drift;
    vec3 old = texture(previous, source).rgb * decay;
    vec3 key = texture(keyframe, (uv - 0.5) * key_crop + 0.5).rgb;
    color = vec4(mix(old, key, key_mix), 1.0);
}
