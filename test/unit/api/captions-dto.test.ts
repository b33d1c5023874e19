import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { AutoModeConfigDto } from '../../../src/dtos/story.dto.js';

async function errors(body: unknown): Promise<string[]> {
  const found = await validate(plainToInstance(AutoModeConfigDto, body), { whitelist: true, forbidNonWhitelisted: true });
  const messages = (e: (typeof found)[number]): string[] => [...Object.values(e.constraints ?? {}), ...(e.children ?? []).flatMap(messages)];
  return found.flatMap(messages);
}

describe('autoMode.captions', () => {
  it('takes a preset with its look', async () => {
    expect(
      await errors({ captions: { preset: 'shorts', size: 0.08, colour: '#FFFFFF', highlightColour: '#ffd700', outlineColour: '#000000', outline: 0.1, position: 'top' } }),
    ).toEqual([]);
  });

  it('refuses an unknown preset, a colour that is not #RRGGBB, a size out of range and unknown fields', async () => {
    const found = await errors({ captions: { preset: 'tiktok', colour: 'red', size: 0.5, font: 'x' } });
    expect(found.join('\n')).toMatch(/preset must be one of/);
    expect(found.join('\n')).toMatch(/colour must be a colour written #RRGGBB/);
    expect(found.join('\n')).toMatch(/size must not be greater than 0.15/);
    expect(found.join('\n')).toMatch(/property font should not exist/);
  });
});
