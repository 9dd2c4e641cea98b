#version 330 core
// Unsharp mask: the pixel plus `amount` times its difference from the mean of its neighbours.
uniform sampler2D source;
uniform float amount;       // 0 leaves the image alone

in vec2 uv;
out vec4 color;

void main() {
    vec2 texel = 1.0 / vec2(textureSize(source, 0));
    vec3 centre = texture(source, uv).rgb;
    vec3 blur = 0.25 * (texture(source, uv + vec2(texel.x, 0.0)).rgb
                      + texture(source, uv - vec2(texel.x, 0.0)).rgb
                      + texture(source, uv + vec2(0.0, texel.y)).rgb
                      + texture(source, uv - vec2(0.0, texel.y)).rgb);
    color = vec4(clamp(centre + amount * (centre - blur), 0.0, 1.0), 1.0);
}
