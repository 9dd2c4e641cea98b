#version 330 core
// Overlay: a text image (straight alpha) drawn over the frame inside the viewport it is given.
uniform sampler2D text;
uniform float opacity;      // 0..1

in vec2 uv;
out vec4 color;

void main() {
    vec4 t = texture(text, uv);
    color = vec4(t.rgb, t.a * opacity);
}
