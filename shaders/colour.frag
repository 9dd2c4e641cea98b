#version 330 core
// Colour controls: brightness, contrast, saturation and a hue rotation about the grey axis.
uniform sampler2D source;
uniform float brightness;   // added to every channel
uniform float contrast;     // gain about mid-grey; 1 leaves it alone
uniform float saturation;   // 0 grey, 1 unchanged, > 1 more vivid
uniform float hue;          // radians of rotation in the YIQ chroma plane

in vec2 uv;
out vec4 color;

const mat3 RGB_TO_YIQ = mat3(0.299, 0.596, 0.211,
                             0.587, -0.274, -0.523,
                             0.114, -0.322, 0.312);
const mat3 YIQ_TO_RGB = mat3(1.0, 1.0, 1.0,
                             0.956, -0.272, -1.106,
                             0.621, -0.647, 1.703);

void main() {
    vec3 yiq = RGB_TO_YIQ * texture(source, uv).rgb;
    float c = cos(hue), s = sin(hue);
    yiq.yz = mat2(c, s, -s, c) * yiq.yz * saturation;
    vec3 rgb = YIQ_TO_RGB * yiq;
    rgb = (rgb - 0.5) * contrast + 0.5 + brightness;
    color = vec4(clamp(rgb, 0.0, 1.0), 1.0);
}
