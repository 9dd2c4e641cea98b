#version 330 core
// Present: the finished frame to a window. Texture row 0 is the top of the image, but the
// window's y axis points up, so this is the one pass that flips.
uniform sampler2D frame;

in vec2 uv;
out vec4 color;

void main() {
    color = vec4(texture(frame, vec2(uv.x, 1.0 - uv.y)).rgb, 1.0);
}
